/**
 * Source options on the Sweeps page in headless Chromium against the real server: in bench mode the chosen
 * source's options are the New run page's component (form/options-form.ts: titles, units following the
 * sweep's quantity, bench-limit hints and checks), hidden in twin mode; a value over the bench limit is
 * refused at its field with nothing posted, and a sweep on the virtual SMU started with a compliance records it in every point's run (its bench snapshot).
 * Screenshot test/artifacts/sweeps-options.png.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('sweep source options', () => {
  it('the options form of New run on Sweeps, checked, refused at the field, sent with the sweep', { timeout: 180_000 }, async () => {
    const { page } = dash;
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/sweeps') && posts.push(r.postData() ?? ''));
    await page.goto(`${dash.url}/#/sweeps`);
    await page.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
    await page.click('[data-view-mode=json]');
    const sweep = { kind: 'sweep', label: 'SMU with options', base: { kind: 'dc', quantity: 'voltage', durationS: 0.2 }, parameters: [{ field: 'level', values: [0.5, 1] }] };
    await page.fill('#sweep-doc', JSON.stringify(sweep, null, 2));
    await page.click('[data-view-mode=form]');

    // Twin mode: no source, no options.
    await page.selectOption('#sweep-mode', 'twin');
    await expect(page.locator('.sweep-options').isVisible()).resolves.toBe(false);
    await page.selectOption('#sweep-mode', 'bench');
    await page.selectOption('#sweep-source', 'smu');
    await page.selectOption('#sweep-circuit', '');
    await page.fill('#sweep-rate', '100');
    await page.dispatchEvent('#sweep-rate', 'change');
    await page.click('.sweep-options details.source-options summary');
    const optLabel = (k: string) => page.locator(`label[for="f-options-${k}"]`).textContent();
    const error = (f: string) => page.locator(`[data-error-for="${f}"]`).textContent();
    await expect(optLabel('compliance')).resolves.toBe('Compliance (A)'); // sourcing voltage: a current
    await expect(page.locator('[data-field="/options/maxVoltage"] .hint').textContent()).resolves.toContain('(this bench: ≤ 20 V)');
    expect(await page.locator('#f-options-address').count()).toBe(0); // CLI only

    // Over the bench limit: refused at the field, nothing posted.
    await page.fill('#f-options-maxVoltage', '30');
    await page.click('button[data-action=start-sweep]');
    await expect(error('/options/maxVoltage')).resolves.toBe('30 V exceeds the bench limit 20 V');
    expect(posts).toHaveLength(0);
    await page.locator('.sweep-form').screenshot({ path: dash.artifact('sweeps-options.png') });

    // A valid compliance goes to every point's run.
    await page.fill('#f-options-maxVoltage', '');
    await page.fill('#f-options-compliance', '0.0005');
    await page.click('button[data-action=start-sweep]');
    await page.waitForURL(/#\/sweeps\/\w+/);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0])).toMatchObject({ mode: 'bench', source: 'smu', options: { compliance: 0.0005 } });
    const id = page.url().split('/').pop()!;
    await expect.poll(async () => (await dash.getJson(`/api/sweeps/${id}`)).sweep.state, { timeout: 120_000, interval: 500 }).toBe('completed');
    const { sweep: done } = await dash.getJson(`/api/sweeps/${id}`);
    expect(done.points).toHaveLength(2);
    for (const pt of done.points) {
      const { run } = await dash.getJson(`/api/runs/${pt.runId}`);
      expect(run.source).toBe('smu');
      expect(run.bench.compliance).toBe(0.0005);
    }
    expect(dash.pageErrors).toEqual([]);
  });
});
