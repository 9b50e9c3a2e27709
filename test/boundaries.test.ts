/**
 * The layering of DESIGN.md, checked by dependency-cruiser with the rules in .dependency-cruiser.cjs: drivers/
 * and web/ import only common/ of the project, server/twin/ and server/analysis/ import nothing of the server and
 * no I/O module, common/ imports nothing. A wrong import fails here with the rule's name.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as {
  forbidden: IForbiddenRuleType[];
  options: Record<string, unknown>;
};

async function violations(baseDir: string): Promise<{ report: string; modules: number; rules: string[] }> {
  const r = await cruise(['common', 'drivers', 'web/src', 'server'], { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } });
  const out = r.output as ICruiseResult;
  const v = out.summary.violations;
  return {
    report: v.map((x) => `${x.rule.name}: ${x.from} → ${x.to}`).join('\n'),
    modules: out.summary.totalCruised,
    rules: v.map((x) => x.rule.name),
  };
}

describe('import boundaries', () => {
  it('the tree keeps them', async () => {
    const { report, modules } = await violations(ROOT);
    expect(modules, 'the check saw the tree').toBeGreaterThan(100);
    expect(report, 'imports that break a boundary (rule: from → to)').toBe('');
  }, 120_000);

  it('a wrong import fails with the rule it breaks', async () => {
    // test/fixtures/boundaries holds one wrong import per rule, in a tree shaped like the project's.
    const { report, rules } = await violations(fileURLToPath(new URL('fixtures/boundaries/', import.meta.url)));
    expect(rules.sort()).toEqual(config.forbidden.map((r) => r.name).sort());
    expect(report).toContain('drivers-import-only-common: drivers/bad.ts → server/store/thing.ts');
    expect(report).toContain('pure-no-io-modules: server/analysis/bad.ts → worker_threads');
  }, 60_000);
});
