import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'web/dist/**', 'dist/**', '.tmp/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Hardware-in-the-loop and browser tests start real processes and ports; two cores: keep it modest.
    maxWorkers: 2,
  },
});
