/**
 * The New run form in headless Chromium against the real server (virtual bench, limits 20 V / 10 mA):
 * human titles with units that follow the protocol's quantity, hints from the bench limits, a value over
 * the limit refused at its field, a limit refusal of the server (a peak no single field exceeds) shown at the
 * field it names (the larger part), the stimulus preview compiled by the server, the samples-per-period warning, and
 * "pair with the twin" (the simulated bench's own circuit by default) giving a linked twin run.
 * Screenshot test/artifacts/new-run.png at 1366×768.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('new run form', () => {
  it('titles, bench-limit hints and refusals at the field, preview, rate warning, pair with the twin', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && !/status of 400/.test(m.text()) && consoleErrors.push(m.text()));
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/runs') && posts.push(r.postData() ?? ''));
    // The first preview's answer is held back a second, to see the form before the preview is drawn.
    let held = false;
    await page.route('**/api/protocols/check*', async (route) => {
      const res = await route.fetch();
      if (!held) (held = true), await new Promise((r) => setTimeout(r, 1000));
      await route.fulfill({ response: res });
    });
    await page.goto(`${dash.url}/#/new`);
    const optionsTop = () => page.locator('details.source-options').evaluate((d) => d.getBoundingClientRect().top);
    const topBefore = await optionsTop();
    expect(await page.getAttribute('.stimulus-preview', 'data-points')).toBeNull();
    await page.selectOption('#f-protocol-kind', 'square');
    const label = (k: string) => page.locator(`label[for="f-protocol-${k}"]`).textContent();
    await expect(label('durationS')).resolves.toBe('Duration (s)');
    await expect(label('frequencyHz')).resolves.toBe('Frequency (Hz)');
    await expect(label('amplitude')).resolves.toBe('Amplitude (A)');
    await expect(page.locator('[data-field="/protocol/amplitude"] .hint').textContent()).resolves.toContain('|value| ≤ 10 mA');
    // The preview: the compiled waveform of the defaults.
    await expect.poll(() => page.getAttribute('.stimulus-preview', 'data-points'), { timeout: 10_000 }).toBe('800');
    await expect(page.locator('[data-preview-note]').textContent()).resolves.toContain('within the bench limits');
    // its room was kept: the Run fieldset below did not move (a click on "Source options" as it arrived missed)
    expect(await optionsTop()).toBe(topBefore);
    await page.unroute('**/api/protocols/check*');

    // Voltage: the level fields' unit and bound follow.
    await page.selectOption('#f-protocol-quantity', 'voltage');
    await expect(label('amplitude')).resolves.toBe('Amplitude (V)');
    await expect(page.locator('[data-field="/protocol/amplitude"] .hint').textContent()).resolves.toContain('|value| ≤ 20 V');
    await page.fill('#f-protocol-amplitude', '30');
    await expect(page.locator('[data-error-for="/protocol/amplitude"]').textContent()).resolves.toBe('30 V exceeds the bench limit maxVoltage = 20 V');
    await page.click('button[data-action=start]');
    expect(posts).toHaveLength(0);

    // 15 V + 10 V: each within the limit, the 25 V peak is not; the server names the larger part, the offset.
    await page.fill('#f-protocol-amplitude', '10');
    await page.fill('#f-protocol-offset', '15');
    await expect.poll(() => page.locator('[data-error-for="/protocol/offset"]').textContent(), { timeout: 10_000 }).toContain('exceeds the bench limit maxVoltage = 20 V');
    await expect(page.locator('[data-error-for="/protocol/offset"]').textContent()).resolves.toContain('peak 25 V');
    await expect(page.locator('[data-error-for="/protocol/amplitude"]').textContent()).resolves.toBe('');
    await page.click('button[data-action=start]');
    await expect.poll(() => page.locator('.form-error').textContent()).toBe('The server refused the run; see the highlighted field.');
    expect(posts).toHaveLength(1);
    await expect(page.locator('[data-error-for="/protocol/offset"]').textContent()).resolves.toContain('peak 25 V');
    await page.fill('#f-protocol-offset', '0');
    await page.fill('#f-protocol-amplitude', '0.002');
    await page.selectOption('#f-protocol-quantity', 'current');

    // The DAQ's 5 kS/s for a 1 kHz square: 5 samples per period, said next to the rate.
    await page.selectOption('#f-source', 'daq');
    expect(await page.inputValue('#f-sampleRate')).toBe('5000');
    const warning = page.locator('[data-warning=samples-per-period]');
    // the period is the server's (the protocol check, debounced as the preview)
    await expect.poll(() => warning.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect(warning.textContent()).resolves.toContain('5 samples per 1 kHz stimulus period');
    await expect(page.inputValue('#f-twin-circuit')).resolves.toBe('lif-daq');
    await page.selectOption('#f-source', 'simulated');
    await expect.poll(() => warning.isVisible()).toBe(false);
    await page.fill('#f-sampleRate', '10000');
    await expect.poll(() => warning.textContent()).toContain('10 samples per');
    await page.fill('#f-sampleRate', '100000');
    await expect.poll(() => warning.isVisible()).toBe(false);

    // Pair with the twin: the simulated bench's own circuit by default.
    await page.fill('#f-protocol-durationS', '0.3');
    await page.check('#f-pair');
    await expect(page.inputValue('#f-twin-circuit')).resolves.toBe('lif-bench');
    await page.fill('#f-label', 'paired from the form');
    await expect.poll(() => page.locator('[data-preview-note]').textContent()).toContain('300 ms');
    await dash.screenshot('new-run.png', { fullPage: true });
    await page.click('button[data-action=start]');
    await page.waitForURL(/#\/runs\/\d+/);
    const id = Number(/#\/runs\/(\d+)/.exec(page.url())![1]);
    expect(JSON.parse(posts.at(-1)!).twin).toEqual({ circuit: 'lif-bench' });
    await expect
      .poll(async () => ((await dash.getJson(`/api/runs?linkedTo=${id}`)).runs as { source: string; status: string }[]).map((r) => `${r.source} ${r.status}`), { timeout: 60_000, interval: 300 })
      .toEqual(['twin completed']);
    // The pairing's analyses are stored with the measured run, as for a pairing from Compare.
    await expect.poll(async () => ((await dash.getJson(`/api/runs/${id}/analyses?name=compare`)).analyses as unknown[]).length, { timeout: 30_000 }).toBe(1);
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
