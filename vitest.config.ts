import { defineConfig } from 'vitest/config';

/** Timing tests: run alone after everything else (group 1), so the suite's own load does not decide them. */
const TIMING = ['test/health-under-load.test.ts'];
const EXCLUDE = ['node_modules/**', 'web/dist/**', 'dist/**', '.tmp/**'];
// expect.poll waits for a page or a server to get somewhere: its 1 s default is less than a debounced filter's
// request and redraw take on a loaded 2-core machine (browser-sessions failed so); the value polled for is unchanged
const LIMITS = { testTimeout: 60_000, hookTimeout: 120_000, expect: { poll: { timeout: 10_000 } } };

export default defineConfig({
  test: {
    // once for the whole run (a project extending the root would run it again)
    globalSetup: ['test/global-setup.ts'],
    // Hardware-in-the-loop and browser tests start real processes and ports; two cores: keep it modest.
    maxWorkers: 2,
    projects: [
      { test: { name: 'suite', include: ['**/*.test.ts'], exclude: [...EXCLUDE, ...TIMING], ...LIMITS, sequence: { groupOrder: 0 } } },
      { test: { name: 'timing', include: TIMING, exclude: EXCLUDE, ...LIMITS, sequence: { groupOrder: 1 } } },
    ],
  },
});
