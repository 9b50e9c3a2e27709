/**
 * Source options remembered between visits, in headless Chromium against the real server: the options last
 * used with a source (started on New run) fill its form on the next visit, on New run and on Sweeps (the one
 * component, form/options-form.ts, localStorage `spikeloop.options.<source>`), per source; "Reset to
 * defaults" empties the fields and forgets them. Screenshot test/artifacts/options-kept.png.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('source options kept between visits', () => {
  it('the options last used with a source are filled in on New run and Sweeps, per source, until reset', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const value = (k: string) => page.inputValue(`#f-options-${k}`);
    const openNew = async () => {
      await page.goto(`${dash.url}/#/new`);
      await page.waitForSelector('#f-source option[value=smu]', { state: 'attached' });
      await page.selectOption('#f-source', 'smu');
      await page.selectOption('#f-protocol-quantity', 'voltage');
      await page.click('details.source-options summary');
    };
    /** Starts a 0.2 s DC run from the open form with these options (nplc left as shown when not given). */
    const startDc = async (quantity: string, level: string, compliance: string, nplc?: string) => {
      await page.selectOption('#f-protocol-kind', 'dc');
      await page.selectOption('#f-protocol-quantity', quantity);
      await page.fill('#f-protocol-level', level);
      await page.fill('#f-protocol-durationS', '0.2');
      await page.fill('#f-sampleRate', '100');
      await page.fill('#f-options-compliance', compliance);
      if (nplc !== undefined) await page.fill('#f-options-nplc', nplc);
      await page.click('button[data-action=start]');
      await page.waitForURL(/#\/runs\/\d+/);
    };

    // A first visit: the SMU's options are empty (its defaults are the server's); no note, no reset.
    await openNew();
    await expect(value('compliance')).resolves.toBe('');
    await expect(page.locator('[data-action=reset-options]').isVisible()).resolves.toBe(false);
    await startDc('voltage', '0.5', '0.0005', '0.5');

    // The next visit (a reload: a new page load) fills them in, and says so.
    await page.reload();
    await openNew();
    await expect(value('compliance')).resolves.toBe('0.0005');
    await expect(value('nplc')).resolves.toBe('0.5');
    await expect(value('maxVoltage')).resolves.toBe('');
    // a start the server refuses (a compliance above the run's own maxCurrent) is not kept
    await page.fill('#f-options-compliance', '0.0008');
    await page.fill('#f-options-maxCurrent', '0.0001');
    await page.click('button[data-action=start]');
    await page.waitForSelector('[data-field="/options/compliance"].invalid');
    await page.reload();
    await openNew();
    await expect(value('compliance')).resolves.toBe('0.0005');
    await expect(value('maxCurrent')).resolves.toBe('');
    await expect(page.locator('[data-options-note]').textContent()).resolves.toBe('Filled in with the options last used with smu.');
    // per source: the simulated bench has its own (none used yet), and the SMU's come back
    await page.selectOption('#f-source', 'simulated');
    await expect(page.locator('[data-options-note]').textContent()).resolves.toBe('');
    await page.selectOption('#f-source', 'smu');
    await expect(value('compliance')).resolves.toBe('0.0005');
    // a compliance is remembered per quantity: 0.0005 A sourcing voltage is no compliance in V
    await page.reload();
    await page.goto(`${dash.url}/#/new`);
    await page.waitForSelector('#f-source option[value=smu]', { state: 'attached' });
    await page.selectOption('#f-protocol-quantity', 'current');
    await page.selectOption('#f-source', 'smu');
    await expect(value('compliance')).resolves.toBe('');
    await expect(value('nplc')).resolves.toBe('0.5');
    // a start sourcing current keeps the compliance last used sourcing voltage (each quantity its own)
    await page.click('details.source-options summary');
    await startDc('current', '0.0001', '2');
    const kept = await page.evaluate(() => localStorage.getItem('spikeloop.options.smu'));
    expect(JSON.parse(kept ?? '{}')).toEqual({ 'compliance@voltage': '0.0005', 'compliance@current': '2', nplc: '0.5' });
    await openNew();
    await page.locator('details.source-options').screenshot({ path: dash.artifact('options-kept.png') });

    // Sweeps shows the same source's options as last used.
    await page.goto(`${dash.url}/#/sweeps`);
    await page.waitForSelector('.sweep-editor-box[data-ready] [data-editor=form]');
    // the page's example sweeps a current: the compliance kept for a current protocol (2 V), not the voltage one's
    await page.selectOption('#sweep-mode', 'bench');
    await page.selectOption('#sweep-source', 'smu');
    await page.click('.sweep-options details.source-options summary');
    await expect(value('compliance')).resolves.toBe('2');
    await page.click('[data-view-mode=json]');
    const sweep = { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage', durationS: 0.2 }, parameters: [{ field: 'level', values: [0.5, 1] }] };
    await page.fill('#sweep-doc', JSON.stringify(sweep, null, 2));
    await page.click('[data-view-mode=form]');
    await expect(value('compliance')).resolves.toBe('0.0005');
    await expect(value('nplc')).resolves.toBe('0.5');

    // Reset: the defaults (empty) at once, and forgotten on the next visit.
    await page.click('.sweep-options [data-action=reset-options]');
    await expect(value('compliance')).resolves.toBe('');
    await expect(value('nplc')).resolves.toBe('');
    await expect(page.locator('[data-action=reset-options]').isVisible()).resolves.toBe(false);
    expect(await page.evaluate(() => localStorage.getItem('spikeloop.options.smu'))).toBeNull();
    await page.reload();
    await openNew();
    await expect(value('compliance')).resolves.toBe('');
    expect(dash.pageErrors).toEqual([]);
  });
});
