/**
 * The experiments pages in headless Chromium (Debian's, via playwright-core) against the real server on
 * the virtual bench, one test per page, sharing one server and one browser (screenshots under
 * test/artifacts/experiments-*.png):
 *  - Bench: instruments with their channel roles, run sources, limits; a protocol checked against them
 *    (the refusal names the limit) and its stimulus previewed. A virtual Keithley 2400 on a real pty
 *    connected from the page (its *IDN? identity shown, output off), refused a disconnect while an SMU
 *    run uses it, then disconnected (state back to disconnected, its pty gone).
 *  - Run: a live square-wave run paused (progress stands still, button turns to Resume), resumed, stopped.
 *  - Compare: a measured square-wave run (the adaptive-LIF test stimulus, 1 kHz 50 % 1 mA) paired with
 *    the LIF twin from the page (the twin fed the recorded stimulus), both on one time axis.
 *  - Sweeps: a sweep over the limits refused with the limit and point named, nothing started; an f–I
 *    sweep on the LIF twin run to the end, its curve drawn with its peak, its points linked to runs.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1280, height: 1000 });
const getJson = dash.getJson;
const progress = async (id: number) =>
  ((await (await dash.fetch(`/api/runs/${id}/progress`)).json()) as { progress: { state: string; samplesDone: number } }).progress;
const sweepDoc = (level: number[]) =>
  JSON.stringify({ kind: 'sweep', label: 'f-I', base: { kind: 'dc', durationS: 0.1 }, parameters: [{ field: 'level', values: level }] });

describe('experiments pages', () => {
  it('shows instruments, sources and limits; checks and previews a protocol', { timeout: 90_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/bench`);
    await page.waitForSelector('tr[data-instrument=sim]');
    expect(await page.textContent('tr[data-instrument=sim]')).toMatch(/stim \(stimulus, A\).*v_mem \(response, V\)/);
    await page.waitForSelector('tr[data-source=simulated]');
    expect(await page.textContent('tr[data-source=simulated]')).toMatch(/yes/);
    expect(await page.textContent('[data-limit=maxVoltage]')).toBe('20 V');

    await page.fill('#bench-protocol', JSON.stringify({ kind: 'iv-sweep', peak: 30, periodS: 1, cycles: 1 }));
    await page.click('button[data-action=check-protocol]');
    await expect.poll(() => page.textContent('#bench-check')).toMatch(/maxVoltage = 20 V/);
    await page.fill('#bench-protocol', JSON.stringify({ kind: 'iv-sweep', peak: 2, negativePeak: 1, periodS: 1, cycles: 2 }));
    await page.click('button[data-action=check-protocol]');
    await expect.poll(() => page.textContent('#bench-check')).toMatch(/iv-sweep: 2 s, -1\.\.2 V.*within the limits/);
    expect(await page.$('.bench-preview canvas')).not.toBeNull();
    await dash.screenshot('experiments-bench.png', { fullPage: true });
    expect(dash.pageErrors).toEqual([]);
  });

  it('connects a virtual SMU over a pty from the Bench page, shows its identity and live state, disconnects it', { timeout: 90_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/bench`);
    const row = 'tr[data-instrument=virtual-smu]';
    await page.waitForSelector(`${row}[data-state=disconnected] button[data-action=connect]`);
    expect(await page.textContent(`${row} [data-field=identity]`)).toBe('–');
    await page.click(`${row} button[data-action=connect]`);
    await page.waitForSelector(`${row}[data-state=connected] button[data-action=disconnect]`);
    expect(await page.textContent(`${row} [data-field=identity]`)).toMatch(/^KEITHLEY INSTRUMENTS INC\.,MODEL 2400,/);
    expect(await page.textContent(`${row} [data-field=outputs]`)).toBe('off');
    expect(await page.textContent(`${row} [data-field=capabilities]`)).toMatch(/±210 V, ±1\.05 A; 2500 points/);
    expect(await page.textContent('#bench-instrument-message')).toMatch(/virtual-smu connected: KEITHLEY/);
    const pty = (await page.textContent(`${row} [data-field=port]`))!;
    expect(existsSync(pty)).toBe(true);

    // an SMU run on it: the page shows it in use (live), its Disconnect is refused by the server
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', quantity: 'voltage', amplitude: 0.5, frequencyHz: 5, durationS: 30 }, source: 'smu', sampleRate: 100, options: { instrument: 'virtual-smu' } });
    expect(res.status).toBe(201);
    const runId = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(() => page.textContent(`${row} [data-field=outputs]`), { timeout: 10_000 }).toBe(`on (run ${runId})`);
    expect(await page.isDisabled(`${row} button[data-action=disconnect]`)).toBe(true);
    const refused = await dash.fetch(`/api/bench/instruments/virtual-smu/disconnect`, { method: 'POST' });
    expect(refused.status).toBe(409);
    await dash.fetch(`/api/runs/${runId}/stop`, { method: 'POST' });
    await expect.poll(() => page.textContent(`${row} [data-field=outputs]`), { timeout: 10_000 }).toBe('off');
    await dash.screenshot('experiments-bench-connected.png', { fullPage: true });

    await page.click(`${row} button[data-action=disconnect]`);
    await page.waitForSelector(`${row}[data-state=disconnected] button[data-action=connect]`);
    expect(await page.textContent('#bench-instrument-message')).toMatch(/virtual-smu disconnected, outputs off/);
    expect(await page.textContent(`${row} [data-field=outputs]`)).toBe('–');
    expect(existsSync(pty)).toBe(false);
    expect(dash.pageErrors).toEqual([]);
  });

  it('pauses and resumes a live square-wave run from the page, then stops it', { timeout: 90_000 }, async () => {
    const { page } = dash;
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 60 }, sampleRate: 20_000, label: 'pause test' });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.waitForSelector('button[data-action=pause]');
    await expect.poll(() => page.textContent('[data-progress]')).toMatch(/\d+ % · [\d.]+ s left/);

    await page.click('button[data-action=pause]');
    await page.waitForSelector('button[data-action=resume]');
    await expect.poll(() => page.textContent('[data-progress]')).toMatch(/^paused · /);
    expect((await progress(id)).state).toBe('paused');
    await new Promise((r) => setTimeout(r, 300)); // a block already being pulled may still land
    const held = (await progress(id)).samplesDone;
    await new Promise((r) => setTimeout(r, 500));
    expect((await progress(id)).samplesDone).toBe(held);
    await dash.screenshot('experiments-run-paused.png');

    await page.click('button[data-action=resume]');
    await page.waitForSelector('button[data-action=pause]');
    await expect.poll(async () => (await progress(id)).samplesDone).toBeGreaterThan(held);

    await page.click('button[data-action=stop]');
    await expect.poll(() => page.textContent('[data-reason]')).toMatch(/stopped by user/);
    expect(dash.pageErrors).toEqual([]);
  });

  it('pairs a measured square-wave run with the LIF twin and overlays them', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const res = await dash.postJson('/api/runs', { protocol: { kind: 'square', durationS: 0.3 }, sampleRate: 10_000, label: 'adaptive-LIF test' });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000 }).toBe('completed');

    await page.goto(`${dash.url}/#/runs/${id}`);
    await page.click('[data-action=compare]');
    await page.waitForURL(new RegExp(`#/compare/${id}$`));
    await page.waitForSelector('button[data-action=pair]');
    await page.selectOption('#compare-circuit', 'lif');
    await page.click('button[data-action=pair]');
    await page.waitForSelector('table.compare-stats', { timeout: 60_000 });

    // The twin run is stored, linked, and was fed exactly the recorded stimulus.
    const runs = (await getJson('/api/runs?limit=10')).runs as any[];
    const twin = runs.find((r) => r.linkedRunId === id);
    expect(twin.source).toBe('twin');
    const a = await getJson(`/api/runs/${id}/channels/0/envelope?start=0&end=3000&pixels=300`);
    const b = await getJson(`/api/runs/${twin.id}/channels/0/envelope?start=0&end=3000&pixels=300`);
    expect(b.max).toEqual(a.max);

    const cells = await page.$$eval('table.compare-stats tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(cells[0][0]).toBe('spikes');
    expect(Number(cells[0][1])).toBeGreaterThan(0);
    expect(Number(cells[0][2])).toBeGreaterThan(0);
    // The analysis library's results, from the server, stored with the runs.
    await page.waitForSelector('table.compare-distances', { timeout: 60_000 });
    const rows = await page.$$eval('table.compare-distances tbody tr', (trs) =>
      trs.map((tr) => [tr.children[0].textContent ?? '', tr.children[1].textContent ?? '', tr.children[2]?.textContent ?? '']),
    );
    const dist = Object.fromEntries(rows.map(([k, v]) => [k, v])) as Record<string, string>;
    for (const k of ['ISI-distance', 'SPIKE-distance', 'SPIKE-synchronization', 'van Rossum (time constant 10 ms)', 'Victor-Purpura (q = 100 /s)']) {
      expect(Number.isFinite(Number(dist[k])), k).toBe(true);
    }
    // Γ (its window scaled to the trains) is a number ≤ 1, or undefined with its reason shown (Kistler et al. 1997)
    const gammaRow = rows.find(([k]) => /^coincidence Γ \(Δ = [\d.]+ [µm]?s\)$/.test(k));
    expect(gammaRow, 'coincidence Γ row').toBeDefined();
    const gamma = Number(gammaRow![1]);
    if (Number.isFinite(gamma)) expect(gamma).toBeLessThanOrEqual(1);
    else expect(gammaRow![2]).toMatch(/^undefined: /);
    expect(Number(dist['SPIKE-synchronization'])).toBeGreaterThanOrEqual(0);
    expect(Number(dist['SPIKE-synchronization'])).toBeLessThanOrEqual(1);
    const regimes = await page.$$eval('table.compare-regimes tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    for (const r of regimes.slice(1)) expect(r).toMatch(/^(quiescent|oscillatory|bursting|saturated|irregular)$/);
    const stored = (await getJson(`/api/runs/${id}/analyses`)).analyses.map((x: any) => x.name);
    expect(stored).toEqual(expect.arrayContaining(['compare', 'avalanches', 'regime']));
    expect(await page.textContent('table.compare-avalanches')).toMatch(/size exponent τ/);
    expect((await page.$$('#compare-body canvas')).length).toBeGreaterThanOrEqual(3);
    await dash.screenshot('experiments-compare.png', { fullPage: true });

    // The twin run's page compares it with the run it was paired with, and says which
    await page.goto(`${dash.url}/#/runs/${twin.id}`);
    await expect.poll(() => page.textContent('[data-action=compare]')).toBe(`Compare with run #${id}`);
    await page.click('[data-action=compare]');
    await page.waitForURL(new RegExp(`#/compare/${id}$`));
    // a twin run of its own (no measured run) offers no compare: there is nothing measured to compare with
    const own = await dash.completedRun({ circuit: 'lif', protocol: { kind: 'dc', durationS: 0.05, level: 2e-5 }, sampleRate: 10_000 }, '/api/twin/runs');
    await page.goto(`${dash.url}/#/runs/${own}`);
    await page.waitForSelector('[data-view=stored] canvas');
    expect(await page.$$('[data-action=compare]')).toHaveLength(0);
    expect(await page.$$('[data-action=replay]')).toHaveLength(1);
    expect(dash.pageErrors).toEqual([]);
  });

  it('refuses a sweep over the limits, then runs an f–I sweep on the twin and draws its curve and phase diagram; resonance and STDP sweeps', { timeout: 180_000 }, async () => {
    const { page } = dash;
    await page.goto(`${dash.url}/#/sweeps`);
    // the JSON view of the sweep editor (the form view: browser-sweeps-editor.test.ts)
    await page.click('[data-view-mode=json]');
    await page.waitForSelector('#sweep-doc');
    await expect.poll(() => page.$$eval('#sweep-circuit option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('lif');
    // without --redis the twin runs on the server's own threads, and the page says so
    await expect.poll(() => page.textContent('#sweep-workers')).toMatch(/this server's \d+ worker threads/);

    // Bad input: invalid JSON, then a point over the bench's current limit. Nothing starts.
    await page.fill('#sweep-doc', '{ nope');
    await page.click('button[data-action=start-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/not valid JSON/);
    await page.fill('#sweep-doc', sweepDoc([20e-6, 0.5]));
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/maxCurrent/);
    await page.click('button[data-action=start-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/sweep point 1 \(level=0.5\).*maxCurrent/);
    expect(await page.$$('tr[data-sweep]')).toHaveLength(0);

    // A valid f–I sweep on the LIF twin.
    await page.fill('#sweep-doc', sweepDoc([15e-6, 30e-6, 60e-6]));
    await page.selectOption('#sweep-mode', 'twin');
    await page.selectOption('#sweep-circuit', 'lif');
    await page.click('button[data-action=check-sweep]');
    await expect.poll(() => page.textContent('#sweep-message')).toMatch(/3 runs.*within the bench limits/);
    await page.click('button[data-action=start-sweep]');
    await page.waitForURL(/#\/sweeps\/\w+/);
    await expect.poll(() => page.getAttribute('.sweep-state', 'data-state'), { timeout: 90_000, interval: 250 }).toBe('completed');
    const rows = await page.$$eval('table.sweep-points tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['Level 15 µA', 'Level 30 µA', 'Level 60 µA']);
    expect(rows.every((r) => r[1] === 'completed' && /^run \d+$/.test(r[2]))).toBe(true);
    // Spike rate rises with the current (LIF f–I curve); the peak is at the highest level.
    const rates = rows.map((r) => Number(r[4]));
    expect(rates[0]).toBeGreaterThan(0);
    expect(rates[1]).toBeGreaterThan(rates[0]);
    expect(rates[2]).toBeGreaterThan(rates[1]);
    expect(await page.textContent('.sweep-peak')).toMatch(/at Level = 60 µA/);
    expect(await page.$('.sweep-chart canvas')).not.toBeNull();
    // The phase diagram (regime per point, server-side classification) as a heatmap.
    await page.waitForSelector('.sweep-analyses[data-analysed]', { timeout: 30_000 });
    expect(await page.$('.sweep-analyses canvas.phase-heatmap')).not.toBeNull();
    const regimes = (await page.getAttribute('.sweep-analyses', 'data-regimes'))!.split(',');
    expect(regimes).toHaveLength(3);
    for (const r of regimes) expect(r).toMatch(/^(quiescent|oscillatory|bursting|saturated|irregular)$/);
    expect(await page.textContent('.phase-transitions')).toMatch(/Level/);
    await dash.screenshot('experiments-sweeps.png', { fullPage: true });

    // A frequency sweep: the resonance curve with the resonance and optimal frequencies marked.
    const startSweep = async (body: unknown) => {
      const r = await dash.postJson('/api/sweeps', body);
      expect(r.status).toBe(201);
      return ((await r.json()) as { sweep: { id: string } }).sweep.id;
    };
    const freqs = [5, 50, 200, 1000];
    const res = await startSweep({
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      sweep: { kind: 'sweep', label: 'resonance', base: { kind: 'square', amplitude: 40e-6, durationS: 0.2 }, parameters: [{ field: 'frequencyHz', values: freqs }] },
    });
    await page.goto(`${dash.url}/#/sweeps/${res}`);
    await page.waitForSelector('.sweep-analyses[data-analysed]', { timeout: 60_000 });
    const rrows = await page.$$eval('table.sweep-points tbody tr', (trs) => trs.map((tr) => Number(tr.children[4].textContent)));
    const best = freqs[rrows.indexOf(Math.max(...rrows))];
    expect(await page.textContent('.sweep-resonance')).toMatch(new RegExp(`^Resonance at ${best} Hz.*optimal operating frequency`));
    expect(await page.$('.sweep-resonance-chart canvas')).not.toBeNull();
    await dash.screenshot('experiments-sweeps-resonance.png', { fullPage: true });

    // An STDP-pairing sweep from the form: the circuit follows the sweep to the plastic synapse; the curve
    // Δw(Δt) from the read pulses, and its fit with the time constants stated.
    await page.goto(`${dash.url}/#/sweeps`);
    await expect.poll(() => page.$$eval('#sweep-circuit option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('stdp-synapse');
    await page.fill(
      '#sweep-doc',
      JSON.stringify({
        kind: 'sweep',
        label: 'stdp',
        base: { kind: 'stdp', spikeShape: 'exp-tail', offsetsS: [-4e-3, -2e-3, 2e-3, 4e-3], pairsPerOffset: 3, readWidthS: 5e-3, gapS: 10e-3 },
        parameters: [{ field: 'pairPeriodS', values: [20e-3] }],
      }),
    );
    expect(await page.inputValue('#sweep-circuit')).toBe('stdp-synapse');
    await page.selectOption('#sweep-mode', 'twin');
    await page.fill('#sweep-rate', '20000');
    await page.click('button[data-action=start-sweep]');
    await page.waitForURL(/#\/sweeps\/\w+/);
    await page.waitForSelector('.sweep-analyses[data-analysed]', { timeout: 60_000 });
    expect(await page.textContent('.sweep-stdp')).toMatch(/^4 pairing blocks; fit A\+ = [\d.]+, τ\+ = [\d.]+ ms, A− = [\d.]+, τ− = [\d.]+ ms/);
    expect(await page.$('.sweep-stdp-chart canvas')).not.toBeNull();
    await dash.screenshot('experiments-sweeps-stdp.png', { fullPage: true });

    // A grid over two parameters: the phase diagram as a 2-D heatmap.
    const grid = await startSweep({
      mode: 'twin',
      circuit: 'lif',
      sampleRate: 10_000,
      sweep: { kind: 'sweep', label: 'grid', base: { kind: 'dc', durationS: 0.05 }, parameters: [{ field: 'level', values: [5e-6, 60e-6] }, { field: 'durationS', values: [0.05, 0.1] }], combine: 'grid' },
    });
    await page.goto(`${dash.url}/#/sweeps/${grid}`);
    await page.waitForSelector('.sweep-analyses[data-analysed]', { timeout: 60_000 });
    expect(await page.textContent('.sweep-analyses h2')).toBe('Phase diagram over Level and Duration');
    expect((await page.getAttribute('.sweep-analyses', 'data-regimes'))!.split(',')).toHaveLength(4);
    expect(await page.$('.sweep-analyses canvas.phase-heatmap')).not.toBeNull();

    // A point's run opens in the run page.
    await page.click('table.sweep-points tbody tr:first-child a');
    await page.waitForURL(/#\/runs\/\d+/);
    expect(dash.pageErrors).toEqual([]);
  });
});
