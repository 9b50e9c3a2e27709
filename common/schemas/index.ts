/**
 * The HTTP API's schemas (TypeBox), one file per concern, with their TypeScript types derived by Static<>.
 * The server's routes validate, serialise and document (OpenAPI at /docs/json) with them, the store and
 * services return the derived types, the CLI checks the requests it builds with them, and the dashboard's
 * client (web/src/api.ts) types every call with them: the wire format, its docs and its types are one.
 */
export * from './shared.ts';
export * from './runs.ts';
export * from './live.ts';
export * from './analysis.ts';
export * from './protocols.ts';
export * from './bench.ts';
export * from './sweeps.ts';
export * from './twin.ts';
export * from './server.ts';
export * from './experiments.ts';
export * from './analysis-results.ts';
