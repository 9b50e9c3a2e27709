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

describe('new run: the simulated bench starts with its demo protocol', () => {
  it('a square of short pulses a little above rheobase, whose run has a handful of spikes per pulse', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const { sources } = (await dash.getJson('/api/sources')) as { sources: { kind: string; protocol?: { demo?: Record<string, unknown> } }[] };
    const demo = sources.find((s) => s.kind === 'simulated')!.protocol!.demo!;
    await page.goto('about:blank'); // a fresh New run, not the one the test before left edited
    await page.goto(`${dash.url}/#/new`);
    // the dashboard's default source: New run opens on the demo, no kind picked
    await expect(page.inputValue('#f-source')).resolves.toBe('simulated');
    await expect(page.inputValue('#f-protocol-kind')).resolves.toBe(demo.kind);
    for (const k of ['quantity', 'frequencyHz', 'duty', 'amplitude']) await expect(page.inputValue(`#f-protocol-${k}`)).resolves.toBe(String(demo[k]));
    // above rheobase (V_threshold / R = 0.8 V / 1 kΩ), not at the kinds' saturating 1 mA
    expect(demo.amplitude).toBeGreaterThan(0.8e-3);
    expect(demo.amplitude).toBeLessThan(1e-3);

    await page.click('button[data-action=start]');
    await page.waitForURL(/#\/runs\/\d+/);
    const id = Number(/#\/runs\/(\d+)/.exec(page.url())![1]);
    await expect.poll(async () => ((await dash.getJson(`/api/runs/${id}`)).run as { status: string }).status, { timeout: 60_000, interval: 300 }).toBe('completed');
    const run = (await dash.getJson(`/api/runs/${id}`)).run as { protocol: { durationS: number; frequencyHz: number }; eventCounts: { spike: number } };
    const pulses = run.protocol.durationS * run.protocol.frequencyHz;
    // a readable raster: a few spikes per pulse (the simulator gives 3), not the default square's solid bar
    expect(run.eventCounts.spike / pulses).toBeGreaterThanOrEqual(2);
    expect(run.eventCounts.spike / pulses).toBeLessThanOrEqual(6);

    // a source without a demo (the DAQ board) gets the kind's defaults, in its quantity, not the LIF's demo
    await page.goto('about:blank');
    await page.goto(`${dash.url}/#/new`);
    await page.selectOption('#f-source', 'daq');
    await expect(page.inputValue('#f-protocol-frequencyHz')).resolves.toBe('1000');
    await expect(page.inputValue('#f-protocol-amplitude')).resolves.toBe('5');

    // picking a kind leaves the demo: its defaults, as before
    await page.goto('about:blank');
    await page.goto(`${dash.url}/#/new`);
    await page.selectOption('#f-source', 'simulated');
    await expect(page.inputValue('#f-protocol-frequencyHz')).resolves.toBe('20');
    await page.selectOption('#f-protocol-kind', 'square');
    await expect(page.inputValue('#f-protocol-frequencyHz')).resolves.toBe('1000');
    expect(dash.pageErrors).toEqual([]);
  });
});
