/**
 * The generated forms in headless Chromium against the real server (virtual bench, limits 20 V / 10 mA):
 * New run labels every parameter with the title and unit of its schema ("Low level (A)", "Duty cycle",
 * "Phase (°)"); a limit refusal of the server lands at exactly the parameter it names (15 V offset + 10 V
 * amplitude: the offset, not the amplitude); the SMU source's options are fields with titles, units (a
 * compliance in the quantity not sourced) and bench-limit hints, an option over the bench refused at its
 * field before posting, and the server's refusals at the option (`/options/compliance`) and at the level
 * the SMU cannot source (`/protocol/level`). On Sweeps, the samples-per-period warning under the rate
 * (the sweep's fastest point) and a point's refusal at the base protocol's field. Screenshots
 * test/artifacts/forms-new-run.png, forms-sweeps-warning.png, forms-sweeps.png.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('generated forms', () => {
  it('titles and units from the schemas, refusals at the exact field, source options, the rate warning on Sweeps', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && consoleErrors.push(m.text()));
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/runs') && posts.push(r.postData() ?? ''));
    const label = (k: string) => page.locator(`label[for="f-protocol-${k}"]`).textContent();
    const error = (pointer: string) => page.locator(`[data-error-for="${pointer}"]`).textContent();

    await page.goto(`${dash.url}/#/new`);
    await page.selectOption('#f-protocol-kind', 'sine');
    await expect(label('phaseDeg')).resolves.toBe('Phase (°)');
    await page.selectOption('#f-protocol-kind', 'square');
    await expect(label('offset')).resolves.toBe('Low level (A)');
    await expect(label('duty')).resolves.toBe('Duty cycle');
    await expect(page.locator('[data-field="/protocol/duty"] .hint').textContent()).resolves.toBe('Fraction of the period spent high (> 0, < 1)');
    await expect(page.locator('[data-field="/protocol/durationS"] .hint').textContent()).resolves.toBe('Run length (> 0, ≤ 86400 s)');

    // 15 V + 10 V: the 25 V peak refused by the server at the larger part, the offset, and there only.
    await page.selectOption('#f-protocol-quantity', 'voltage');
    await page.fill('#f-protocol-amplitude', '10');
    await page.fill('#f-protocol-offset', '15');
    await expect.poll(() => error('/protocol/offset'), { timeout: 10_000 }).toMatch(/peak 25 V exceeds the bench limit maxVoltage = 20 V/);
    await expect(error('/protocol/amplitude')).resolves.toBe('');
    await page.click('button[data-action=start]');
    await expect.poll(() => page.locator('.form-error').textContent()).toBe('The server refused the run; see the highlighted field.');
    expect(posts).toHaveLength(1);
    await expect(error('/protocol/amplitude')).resolves.toBe('');
    await page.fill('#f-protocol-offset', '0');
    await page.fill('#f-protocol-amplitude', '1');

    // The SMU's options: titles, units (compliance in A when sourcing voltage), the bench's bounds.
    await page.selectOption('#f-source', 'smu');
    await page.click('details.source-options summary');
    const optLabel = (k: string) => page.locator(`label[for="f-options-${k}"]`).textContent();
    await expect(optLabel('compliance')).resolves.toBe('Compliance (A)');
    await expect(optLabel('maxVoltage')).resolves.toBe('Max voltage (V)');
    await expect(optLabel('nplc')).resolves.toBe('Integration time (PLC)');
    await expect(page.locator('[data-field="/options/compliance"] .hint').textContent()).resolves.toContain('(this bench: ≤ 10 mA)');
    await expect(page.locator('[data-field="/options/maxVoltage"] .hint').textContent()).resolves.toContain('(this bench: ≤ 20 V)');
    expect(await page.locator('#f-options-address').count()).toBe(0); // CLI only
    await page.selectOption('#f-protocol-quantity', 'current');
    await expect(optLabel('compliance')).resolves.toBe('Compliance (V)');
    await page.selectOption('#f-protocol-quantity', 'voltage');
    await page.fill('#f-options-maxVoltage', '30');
    await expect(error('/options/maxVoltage')).resolves.toBe('30 V exceeds the bench limit 20 V');
    await page.click('button[data-action=start]');
    expect(posts).toHaveLength(1);
    // within the bench, but above the run's own lower maxCurrent: refused by the server at the option
    await page.fill('#f-options-maxVoltage', '');
    await page.fill('#f-options-maxCurrent', '0.005');
    await page.fill('#f-options-compliance', '0.008');
    await page.fill('#f-sampleRate', '100');
    await page.click('button[data-action=start]');
    await expect.poll(() => error('/options/compliance')).toMatch(/compliance 0.008 A exceeds the run's limit compliance.current = 0.005 A/);
    expect(posts).toHaveLength(2);
    expect(JSON.parse(posts[1]).options).toEqual({ maxCurrent: 0.005, compliance: 0.008 });
    // 5 V: within the bench's 20 V, over the SMU's own 2 V default: at the level
    await page.fill('#f-options-compliance', '');
    await page.fill('#f-options-maxCurrent', '');
    await page.selectOption('#f-protocol-kind', 'dc');
    await page.selectOption('#f-protocol-quantity', 'voltage');
    await page.fill('#f-protocol-level', '5');
    await page.fill('#f-protocol-durationS', '0.5');
    await page.click('button[data-action=start]');
    await expect.poll(() => error('/protocol/level')).toMatch(/peak 5 V exceeds the run's limit maxVoltage = 2 V/);
    expect(posts).toHaveLength(3);
    await page.locator('form.run-form').scrollIntoViewIfNeeded();
    await dash.screenshot('forms-new-run.png', { fullPage: true });

    // Sweeps: the warning under the rate at the sweep's fastest point; a point refused at the base field.
    await page.goto(`${dash.url}/#/sweeps`);
    await page.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
    await page.click('[data-view-mode=json]');
    const sweep = { kind: 'sweep', base: { kind: 'square', quantity: 'current', amplitude: 0.001, durationS: 0.1 }, parameters: [{ field: 'frequencyHz', values: [100, 2000, 500] }] };
    await page.fill('#sweep-doc', JSON.stringify(sweep, null, 2));
    await page.click('[data-view-mode=form]');
    await page.fill('#sweep-rate', '10000');
    const warning = page.locator('[data-warning=samples-per-period]');
    await expect.poll(() => warning.textContent(), { timeout: 10_000 }).toContain('5 samples per 2 kHz stimulus period');
    await expect(warning.isVisible()).resolves.toBe(true);
    await page.fill('#sweep-rate', '100000');
    await expect.poll(() => warning.isVisible()).toBe(false);
    await page.fill('#sweep-rate', '10000');
    await expect.poll(() => warning.isVisible()).toBe(true);
    await page.locator('.sweep-form').screenshot({ path: dash.artifact('forms-sweeps-warning.png') });
    await page.click('[data-view-mode=json]');
    const over = { kind: 'sweep', base: { kind: 'sine', quantity: 'voltage', offset: 15, durationS: 0.1 }, parameters: [{ field: 'amplitude', values: [1, 10] }] };
    await page.fill('#sweep-doc', JSON.stringify(over, null, 2));
    await page.click('[data-view-mode=form]');
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => error('/base/offset')).toMatch(/sweep point 1 \(amplitude=10\).*peak 25 V exceeds the bench limit maxVoltage = 20 V/);
    await expect(page.locator('[data-error-for="/parameters/0"]').textContent()).resolves.toBe('');
    await page.locator('.sweep-form').screenshot({ path: dash.artifact('forms-sweeps.png') });
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
