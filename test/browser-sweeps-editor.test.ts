/**
 * The sweep editor and bench-paired sweeps in headless Chromium against the real server (virtual bench:
 * the DAQ source is the virtual Uno in simavr with the lif-daq circuit on its pins): the form generated
 * from the protocol schema and its JSON view, kept across a reload (localStorage), a limit refusal at the
 * swept parameter; a bench-paired sweep on the DAQ with the defaults (the default twin circuit is the
 * board's own, which takes the voltage the DAQ records) pairs every point; with the LIF circuit forced, the
 * pairing fails and the page still shows each point's measured rate with the failure named; axes and
 * point labels with units. Screenshots under test/artifacts/ (sweeps-editor.png, sweeps-bench-paired.png,
 * sweeps-pairing-failed.png).
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('sweep editor', () => {
  it('form and JSON views kept across visits, refusal at the parameter, bench-paired sweeps on the DAQ', { timeout: 240_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && consoleErrors.push(m.text()));
    await page.goto(`${dash.url}/#/sweeps`);
    await page.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
    // The form: the example f–I sweep, its base protocol with titles and units, the swept field by title.
    expect(await page.inputValue('#f-base-kind')).toBe('dc');
    await expect(page.locator('label[for="f-base-durationS"]').textContent()).resolves.toBe('Duration (s)');
    expect(await page.inputValue('#sweep-param-0-field')).toBe('level');
    await expect(page.locator('#sweep-param-0-field option[value=level]').textContent()).resolves.toBe('Level (A)');

    await page.fill('#sweep-label', 'f-I on the DAQ');
    await page.fill('#f-base-durationS', '0.1');
    await page.fill('#sweep-param-0-start', '20e-6');
    await page.fill('#sweep-param-0-stop', '0.5');
    await page.fill('#sweep-param-0-steps', '2');
    // 0.5 A is over the bench's 10 mA: refused, and said at the swept parameter.
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/maxCurrent/);
    await expect(page.locator('[data-error-for="/parameters/0"]').textContent()).resolves.toMatch(/maxCurrent/);
    await page.fill('#sweep-param-0-stop', '60e-6');
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/^2 runs.*20 µA … 60 µA: within the bench limits/);

    // The JSON view is the same document; back in the form nothing is lost.
    await page.click('[data-view-mode=json]');
    const doc = JSON.parse(await page.inputValue('#sweep-doc'));
    expect(doc).toMatchObject({ kind: 'sweep', label: 'f-I on the DAQ', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field: 'level', start: 20e-6, stop: 60e-6, steps: 2, scale: 'linear' }] });
    expect(doc.base.level).toBeUndefined();
    await page.click('[data-view-mode=form]');
    expect(await page.inputValue('#sweep-param-0-stop')).toBe('0.00006');

    // Bench mode on the DAQ: the default circuit is the board's own.
    await page.selectOption('#sweep-mode', 'bench');
    await page.selectOption('#sweep-source', 'daq');
    await expect.poll(() => page.inputValue('#sweep-circuit')).toBe('lif-daq');
    await page.fill('#sweep-rate', '5000');
    await page.dispatchEvent('#sweep-rate', 'change');

    // Kept across visits.
    await page.reload();
    await page.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
    expect(await page.inputValue('#sweep-label')).toBe('f-I on the DAQ');
    expect(await page.inputValue('#sweep-param-0-start')).toBe('0.00002');
    expect(await page.inputValue('#sweep-mode')).toBe('bench');
    expect(await page.inputValue('#sweep-source')).toBe('daq');
    expect(await page.inputValue('#sweep-rate')).toBe('5000');
    await expect.poll(() => page.inputValue('#sweep-circuit')).toBe('lif-daq');
    await page.locator('.sweep-form').screenshot({ path: dash.artifact('sweeps-editor.png') });

    // With the defaults every point is measured and paired.
    await page.click('button[data-action=start-sweep]');
    await page.waitForURL(/#\/sweeps\/\w+/);
    await expect.poll(() => page.getAttribute('.sweep-state', 'data-state'), { timeout: 120_000, interval: 300 }).toBe('completed');
    const cells = () => page.$$eval('table.sweep-points tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    const ok = await cells();
    expect(ok.map((r) => r[0])).toEqual(['Level 20 µA', 'Level 60 µA']);
    for (const r of ok) {
      expect(r[2]).toMatch(/^run \d+$/);
      expect(r[3]).toMatch(/^run \d+$/);
      expect(r[4]).toMatch(/^\d/);
      expect(r[5]).toMatch(/^\d/);
    }
    await expect(page.getAttribute('.sweep-chart', 'data-x-axis')).resolves.toBe('Level (A)');
    await dash.screenshot('sweeps-bench-paired.png', { fullPage: true });

    // The LIF circuit takes a current: the DAQ's recorded voltage is refused, the measured rates stay.
    const res = await dash.postJson('/api/sweeps', { mode: 'bench', source: 'daq', circuit: 'lif', sampleRate: 5000, sweep: { ...doc, label: 'forced lif' } });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { sweep: { id: string } }).sweep.id;
    await page.goto(`${dash.url}/#/sweeps/${id}`);
    await expect.poll(() => page.getAttribute('.sweep-state', 'data-state'), { timeout: 120_000, interval: 300 }).toBe('failed');
    const failed = await cells();
    for (const r of failed) {
      expect(r[1]).toBe('completed');
      expect(r[3]).toBe('pairing failed');
      expect(r[4]).toMatch(/^\d/);
      expect(r[7]).toBe('twin: circuit lif is driven by a current stimulus, got voltage');
    }
    await dash.screenshot('sweeps-pairing-failed.png', { fullPage: true });
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
