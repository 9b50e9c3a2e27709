/**
 * The import boundaries of DESIGN.md ("Layout: one room per concern"), checked by test/boundaries.test.ts in
 * `npm test` (and by hand with `npx depcruise common drivers web/src server`). Paths are relative to the
 * repository root; a violation names its rule.
 */
/** Unit tests may sit beside their code and read fixtures from disk; the rules are about the code itself. */
const TESTS = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'common-imports-nothing',
      comment: 'common/ is shared by drivers, server and web: it imports only common/ and the schema package (typebox).',
      severity: 'error',
      from: { path: '^common/', pathNot: TESTS },
      to: { pathNot: ['^common/', '^node_modules/typebox/', '^node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'drivers-import-only-common',
      comment: 'drivers/ talk to instruments; of the project they import only common/ (never server/ or web/).',
      severity: 'error',
      from: { path: '^drivers/', pathNot: TESTS },
      to: { path: '^(server|web|test|bench|scripts|firmware)/' },
    },
    {
      name: 'web-imports-only-common',
      comment: 'web/ is a browser app that speaks only the HTTP/WebSocket API: it imports web/, common/ and browser packages, no Node built-in.',
      severity: 'error',
      from: { path: '^web/src/', pathNot: TESTS },
      to: { pathNot: ['^(web|common)/', '^node_modules/'] },
    },
    {
      name: 'pure-imports-nothing-of-server',
      comment: 'server/twin/ and server/analysis/ are pure computation: they import no other part of the server, nor drivers/ or web/.',
      severity: 'error',
      from: { path: '^server/(twin|analysis)/', pathNot: TESTS },
      to: { path: '^(server|drivers|web)/', pathNot: '^server/(twin|analysis)/' },
    },
    {
      name: 'pure-no-io-modules',
      comment:
        'server/twin/ and server/analysis/ do no I/O: no Node built-in (node:fs, net, child_process, worker_threads ...) and no package but pure computation ones (ml-matrix, typebox).',
      severity: 'error',
      from: { path: '^server/(twin|analysis)/', pathNot: TESTS },
      to: {
        pathNot: ['^(server|drivers|web|common)/', '^node_modules/(ml-matrix|typebox|@sinclair/typebox)/'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from server/ in drivers/ is still a wrong dependency.
    tsPreCompilationDeps: true,
    exclude: { path: '(^|/)(node_modules|dist)/' },
    // Resolve packages as Node's ESM loader does (typebox exports only `import` entry points).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
