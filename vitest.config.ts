import { defineConfig } from 'vitest/config';

/**
 * `npm run coverage` fails below these (lines, %). Each key is a group: the
 * files it matches together. Counted: the code vitest's test workers run, and
 * (through scripts/coverage.mjs and scripts/coverage-provider.mjs) the code
 * packcheck runs in its worker threads, child processes and CLI processes.
 */
const THRESHOLDS: Record<string, number> = {
  // The core rooms: ABI and schema, hosts and ledgers, properties, kernel, running, results and reports, fuzzing.
  'harness/abi/**': 90,
  'harness/hosts/**': 90,
  'properties/**': 90,
  'harness/kernel/**': 90,
  '{harness/run/wasm-runner.ts,harness/run/native-runner.ts,harness/run/host-runner.ts}': 90,
  'harness/run/**': 90,
  'harness/report/**': 90,
  'harness/fuzz/**': 90,
  // Files that carry most of the weight, held on their own as well.
  'harness/hosts/wasm/wasm-host.ts': 90,
  'harness/run/results.ts': 90,
  'harness/abi/message-schema.ts': 90,
  // The CLI layer: argument handling and subcommand wiring.
  '{harness/cli.ts,harness/commands/**}': 85,
};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Battery tests start worker threads of their own; two files at a time fit two cores.
    maxWorkers: 2,
    // Under npm run coverage: sandboxes write their V8 coverage (test/support/sandbox-coverage.ts).
    setupFiles: ['test/support/sandbox-coverage.ts'],
    coverage: {
      // vitest's v8 provider plus the sandboxes' coverage (scripts/coverage-provider.mjs).
      provider: 'custom',
      customProviderModule: './scripts/coverage-provider.mjs',
      // packcheck's own code; mocks/ holds test doubles, not what ships.
      include: ['harness/**/*.{ts,mjs}', 'properties/**/*.ts', 'bin/packcheck.js'],
      exclude: ['**/*.d.ts'],
      // The figures are printed even when a test failed.
      reportOnFailure: true,
      // The table, then the summary last (what CI's log ends with); html and lcov in coverage/.
      reporter: ['text', 'text-summary', 'html', 'lcov'],
      reportsDirectory: 'coverage',
      thresholds: Object.fromEntries(Object.entries(THRESHOLDS).map(([glob, lines]) => [glob, { lines }])),
    },
  },
});
