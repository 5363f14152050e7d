/**
 * Import rules for src/ (issue 19): no module may reach itself through its
 * imports, type-only imports included (a type cycle ties the layers as
 * tightly as a value one); metrics/ sits below protocol/ and imports nothing
 * outside itself but errors.ts. Run by `npm run lint`.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: move the shared part into a module both can import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'metrics-below-protocol',
      severity: 'error',
      comment:
        'metrics/ must not import protocol/: protocol/ wraps the metric schemas of ' +
        'metrics/delta.ts in its messages, so the dependency runs one way only.',
      from: { path: '^src/metrics/' },
      to: { path: '^src/protocol/' },
    },
    {
      name: 'metrics-is-a-leaf',
      severity: 'error',
      comment:
        'metrics/ knows no transport and no k6 format: k6/ decodes k6 output (json-output.ts, ' +
        'cloud-wire.ts) into the types metrics/ declares (cloud-series.ts), agent/ and the ' +
        'coordinator use metrics/; metrics/ imports only itself and errors.ts.',
      from: { path: '^src/metrics/' },
      to: { path: '^src/', pathNot: ['^src/metrics/', '^src/errors\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^dist/' },
  },
};
