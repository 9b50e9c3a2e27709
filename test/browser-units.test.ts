/**
 * Units and roles on the run page, headless Chromium against the real server (1366×768):
 *  - a run on the virtual DAQ board (the lif-daq circuit on its pins) of a current protocol: the channels are
 *    labelled from the circuit's `daq.pins` ("membrane v (A0)", "stimulus v (A1)"), the recorded stimulus
 *    (volts at the board's output) carries the visible note that the bench configuration gives no conversion
 *    to the protocol's amperes, and the default 5 kS/s for a 1 kHz square is flagged (5 samples per period);
 *    plot titles and the X–Y view use the labels (screenshot units-daq.png);
 *  - a simulated-bench run names its channels "stimulus i" and "membrane v", in A and V.
 * The conversion itself (toCurrent: transconductance or shunt) is checked in server/store/channel-meta.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 768 });

async function runTo(body: unknown): Promise<number> {
  const res = await dash.postJson('/api/runs', body);
  expect(res.status, await res.clone().text()).toBe(201);
  const id = ((await res.json()) as { run: { id: number } }).run.id;
  await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 60_000, interval: 250 }).not.toBe('running');
  return id;
}

describe('channel units and roles', () => {
  it('labels a DAQ run from its circuit, notes the unconverted stimulus and the low rate', { timeout: 150_000 }, async () => {
    const id = await runTo({ source: 'daq', protocol: { kind: 'square', quantity: 'current', amplitude: 1e-3, frequencyHz: 1000, durationS: 0.4 } });
    const run = (await dash.getJson(`/api/runs/${id}`)).run;
    expect(run.status).toBe('completed');
    expect(run.channels.map((c: { name: string; label: string }) => [c.name, c.label])).toEqual([
      ['stim', 'stimulus v (board output)'],
      ['a0', 'membrane v (A0)'],
      ['a1', 'stimulus v (A1)'],
    ]);
    const { page } = dash;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.waitForSelector('[data-channel-notes]');
    const notes = await page.$$eval('[data-channel-note]', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^stimulus v \(board output\): recorded in V, the board's output voltage: the protocol is a current.*toCurrent/);
    expect(notes[1]).toMatch(/^stimulus v \(board output\), membrane v \(A0\), stimulus v \(A1\): 5 samples per stimulus period \(1 ms\): fewer than 20/);
    expect(await page.textContent('[data-fact=channels] dd')).toMatch(/stimulus v \(board output\) \[V\].*membrane v \(A0\) \[V\].*stimulus v \(A1\) \[V\]/);
    await expect.poll(() => page.textContent('.plot[data-channel="1"] .u-title')).toMatch(/^membrane v \(A0\) \[V\] · a0, 5 kS\/s/);
    // X–Y: the stimulus against the membrane, labelled.
    await page.click('[data-action=xy]');
    await expect.poll(() => page.getAttribute('[data-plot=xy]', 'data-points'), { timeout: 10_000 }).not.toBeNull();
    expect(await page.textContent('[data-plot=xy] .u-title')).toMatch(/^membrane v \(A0\) vs stimulus v \(board output\)/);
    await dash.screenshot('units-daq.png', { fullPage: true });
    expect(dash.pageErrors).toEqual([]);
  });

  it('names a simulated-bench run\'s channels by role and quantity', { timeout: 60_000 }, async () => {
    const id = await runTo({ protocol: { kind: 'square', durationS: 0.3, frequencyHz: 100 }, sampleRate: 20_000 });
    const run = (await dash.getJson(`/api/runs/${id}`)).run;
    expect(run.channels.map((c: { label: string; unit: string }) => [c.label, c.unit])).toEqual([
      ['stimulus i', 'A'],
      ['membrane v', 'V'],
    ]);
    expect(run.channels.every((c: { notes?: string[] }) => c.notes === undefined)).toBe(true);
    await dash.page.goto(`${dash.url}/#/runs/${id}`);
    await expect.poll(() => dash.page.textContent('.plot[data-channel="0"] .u-title')).toMatch(/^stimulus i \[A\]/);
    expect(await dash.page.$('[data-channel-notes]')).toBeNull();
  });
});
