import { readFileSync } from 'node:fs';

/** The package version, recorded in every run's start message. */
export const SOFTWARE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
