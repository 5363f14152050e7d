import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const ENTRY_POINTS = ['src/index.ts', 'src/cli/index.ts'];
const PROCESS_IO = ['env', 'stdout', 'stderr'];
const FROM_IO = 'take it from the ActionIo or CliIo its entry point builds';
const PROCESS_IO_IMPORTS = ['process', 'node:process'].map((name) => ({
  name,
  importNames: PROCESS_IO,
  message: FROM_IO,
}));

// A later block's no-restricted-imports replaces an earlier one's for the
// files both match: each block repeats what applies above it.
const BELOW_THE_CLI = [
  ...PROCESS_IO_IMPORTS,
  { name: 'commander', message: 'parse values in src/values.ts; src/cli/ adapts them' },
];

export default tseslint.config(
  // k6 scripts run in k6's JavaScript runtime, not Node; k6 itself checks them.
  {
    ignores: [
      'dist/',
      '.bench-build/',
      'node_modules/',
      'coverage/',
      '__tests__/fixtures/scripts/',
      '__tests__/fixtures/conformance/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  // The outside world enters once (issue 19.3): only the entry points touch
  // the process's environment and output; below them they come in an
  // ActionIo (src/action/io.ts) or a CliIo (src/cli/main.ts).
  {
    files: ['src/**/*.ts'],
    ignores: ENTRY_POINTS,
    rules: {
      'no-restricted-properties': [
        'error',
        ...PROCESS_IO.map((property) => ({ object: 'process', property, message: FROM_IO })),
      ],
      'no-restricted-imports': ['error', { paths: PROCESS_IO_IMPORTS }],
    },
  },
  // Small functions (issue 19): none over 60 lines, but for the two page
  // templates, whose length is markup in order (the HTML report, an SVG chart).
  {
    files: ['src/**/*.ts'],
    ignores: ['src/report/html.ts', 'src/report/svg-chart.ts'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  // Value parsers know no CLI library (src/values.ts): only src/cli/ imports commander.
  {
    files: ['src/**/*.ts'],
    ignores: [...ENTRY_POINTS, 'src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { paths: BELOW_THE_CLI }] },
  },
  // The agent shares the protocol with the coordinator, never its code: its
  // exit codes come from k6/exit-codes.ts (issue 19.4).
  {
    files: ['src/agent/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: BELOW_THE_CLI,
          patterns: [
            { group: ['**/coordinator/*'], message: 'share it through src/protocol/ or src/k6/' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  prettier,
);
