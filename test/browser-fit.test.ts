/**
 * "Calibrate the twin" on a run's page in headless Chromium against the real server: a twin run of the LIF
 * below threshold, a fit of Cm with bounds started from the panel, its progress pushed by the server (the
 * panel's server-sent event stream, no polling), the result table with
 * the interval, then "Pair with fitted twin"; a second fit cancelled from the panel. Screenshot
 * test/artifacts/fit-panel.png at 1366×900.
 */
import { describe, expect, it } from 'vitest';
import { useDashboard } from './browser/dashboard.ts';

const dash = useDashboard({ width: 1366, height: 900 });

describe('fit panel', () => {
  it('fits from the run page, shows progress, the result with its interval, pairs, and cancels', { timeout: 120_000 }, async () => {
    const { page } = dash;
    const consoleErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const res = await dash.postJson('/api/twin/runs', { circuit: 'lif', protocol: { kind: 'square', quantity: 'current', amplitude: 8e-6, frequencyHz: 20, duty: 0.5, durationS: 0.1 }, sampleRate: 10_000 });
    const id = ((await res.json()) as { run: { id: number } }).run.id;
    await expect.poll(async () => (await dash.getJson(`/api/runs/${id}`)).run.status, { timeout: 30_000, interval: 200 }).toBe('completed');

    await page.goto(`${dash.url}/#/runs/${id}`);
    const panel = page.locator('[data-view=fit]');
    await panel.locator('summary').click();
    await expect(panel.locator('[data-fit=circuit]').inputValue()).resolves.toBe('lif');
    const row = panel.locator('[data-fit-param]').first();
    await row.locator('input[aria-label=Parameter]').fill('Cm.value');
    await row.locator('input[aria-label=Minimum]').fill('3e-8');
    await row.locator('input[aria-label=Maximum]').fill('3e-7');
    // progress comes over the fit's event stream: the page never polls GET /api/fits/:id
    const fitRequests: string[] = [];
    page.on('request', (r) => /\/api\/fits\//.test(r.url()) && fitRequests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    await panel.locator('[data-action=fit-start]').click();
    await expect.poll(() => panel.locator('[data-fit=status]').textContent(), { timeout: 60_000 }).toBe('fitted');
    expect(Number(await panel.locator('[data-fit=progress]').getAttribute('data-updates'))).toBeGreaterThan(1);
    expect(fitRequests.length).toBe(1);
    expect(fitRequests[0]).toMatch(/^GET \/api\/fits\/[\w-]+\/events$/);
    await expect(panel.locator('[data-action=fit-cancel]').isVisible()).resolves.toBe(false);
    const fitted = Number(await panel.locator('[data-param="Cm.value"] td:nth-child(3)').textContent());
    expect(Math.abs(fitted / 100e-9 - 1)).toBeLessThan(0.02);
    await expect(panel.locator('[data-param="Cm.value"] td:nth-child(4)').textContent()).resolves.toMatch(/…/);
    const name = await panel.locator('[data-fit=circuit-name]').textContent();
    expect(name).toBe(`lif-fit-run${id}`);
    await panel.locator('[data-action=fit-pair]').click();
    await expect.poll(() => panel.locator('[data-fit=pair-status]').textContent(), { timeout: 30_000 }).toMatch(/twin run #\d+ — Compare/);
    await dash.screenshot('fit-panel.png', { fullPage: true });
    const twins = (await dash.getJson(`/api/runs?linkedTo=${id}`)).runs as { id: number }[];
    expect(twins.length).toBeGreaterThan(0);

    // a long fit, cancelled from the panel
    await row.locator('input[aria-label=Parameter]').fill('Rm.value');
    await row.locator('input[aria-label=Minimum]').fill('');
    await row.locator('input[aria-label=Maximum]').fill('');
    await panel.locator('[data-action=fit-add]').click();
    await panel.locator('[data-fit-param]').nth(1).locator('input[aria-label=Parameter]').fill('Cm.value');
    await panel.locator('[data-action=fit-start]').click();
    await expect.poll(() => panel.locator('[data-fit=status]').textContent(), { timeout: 30_000 }).toMatch(/evaluations/);
    await expect(panel.locator('[data-fit=progress]').isVisible()).resolves.toBe(true);
    await panel.locator('[data-action=fit-cancel]').click();
    await expect.poll(() => panel.locator('[data-fit=status]').textContent(), { timeout: 30_000 }).toBe('cancelled');
    expect(dash.pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
