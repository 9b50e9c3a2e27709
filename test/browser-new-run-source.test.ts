/**
 * New run proposes the protocol quantity the source plays and records as it is: the DAQ board's volts (the
 * default 1 mA square as 5 V, the drive a current protocol gets through its 5 kΩ), so a first DAQ run is
 * recorded without the "recorded in V … no conversion" note; the simulated bench keeps amperes; a protocol
 * the user edited is left alone.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1280, height: 800 });

describe('new run: the default protocol suits the source', () => {
  it('DAQ board: volts, and its first run carries no conversion note', { timeout: 120_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/new`);
    await page.selectOption('#f-protocol-kind', 'square');
    await page.selectOption('#f-source', 'simulated');
    await expect(page.inputValue('#f-protocol-quantity')).resolves.toBe('current');
    await expect(page.inputValue('#f-protocol-amplitude')).resolves.toBe('0.001');
    // a kind whose default levels are volts (chirp: 1 V) is left in volts on the simulated bench (which
    // drives a voltage through its R), not made a 1 A current: the suggestion scales levels given in A
    await page.selectOption('#f-protocol-kind', 'chirp');
    await expect(page.inputValue('#f-protocol-quantity')).resolves.toBe('voltage');
    await expect(page.inputValue('#f-protocol-amplitude')).resolves.toBe('1');
    await page.selectOption('#f-protocol-kind', 'square');

    await page.selectOption('#f-source', 'daq');
    await expect(page.inputValue('#f-protocol-quantity')).resolves.toBe('voltage');
    await expect(page.inputValue('#f-protocol-amplitude')).resolves.toBe('5');
    await expect(page.locator('label[for="f-protocol-amplitude"]').textContent()).resolves.toBe('Amplitude (V)');

    await page.fill('#f-protocol-durationS', '0.2');
    await page.click('button[data-action=start]');
    await page.waitForURL(/#\/runs\/\d+/);
    const id = Number(/#\/runs\/(\d+)/.exec(page.url())![1]);
    await expect.poll(async () => ((await dash.getJson(`/api/runs/${id}`)).run as { status: string }).status, { timeout: 60_000, interval: 300 }).toBe('completed');
    const run = (await dash.getJson(`/api/runs/${id}`)).run as { source: string; protocol: { quantity: string } };
    expect(run.source).toBe('daq');
    expect(run.protocol.quantity).toBe('voltage');
    expect(JSON.stringify(run)).not.toMatch(/no conversion/);

    // An edited protocol stays as the user left it when the source changes.
    await page.goto(`${dash.url}/#/new`);
    await page.selectOption('#f-source', 'simulated');
    await page.selectOption('#f-protocol-kind', 'square');
    await page.fill('#f-protocol-amplitude', '0.002');
    await page.selectOption('#f-source', 'daq');
    await expect(page.inputValue('#f-protocol-quantity')).resolves.toBe('current');
    await expect(page.inputValue('#f-protocol-amplitude')).resolves.toBe('0.002');
    expect(dash.pageErrors).toEqual([]);
  });
});
