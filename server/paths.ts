/**
 * The package's root folder (package.json, web/dist, firmware/build): two levels above this file from the
 * TypeScript sources (server/paths.ts), three from the compiled build (dist/server/paths.js).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.endsWith('.ts') ? '..' : '../..');
