// `npm run coverage`: the test suite with coverage of packcheck's own code,
// including the code that runs outside vitest's test workers: the wasm
// battery's worker threads, the JS host kit's workers, the native child
// process and the CLI processes the tests start.
//
// vitest's v8 provider measures only its own workers, where it maps the code
// it transformed back to the sources. Sandboxes run their code elsewhere, so
// this script first compiles the sources with tsc (JavaScript plus source
// maps, into .coverage/sandbox-js/), then runs vitest with
// PACKCHECK_SANDBOX_JS pointing there: the entry modules of worker threads
// and child processes import that compiled code in place of tsx-loaded
// sources, and test/support/sandbox-coverage.ts sets NODE_V8_COVERAGE so
// that each sandbox writes Node's own coverage when it ends. The custom
// provider (scripts/coverage-provider.mjs) maps those through the source maps
// and merges them with vitest's figures before the thresholds are checked.
//
// A separate compile (not dist/) because a test packs the package, and
// `npm pack` rebuilds dist/ from scratch while other tests run.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.coverage');
const JS = join(OUT, 'sandbox-js');
const require = createRequire(import.meta.url);

rmSync(OUT, { recursive: true, force: true });
// The package's own build, elsewhere: the compiled code with its entries, data and reference packs.
const build = spawnSync(process.execPath, ['scripts/build.mjs', '--out', JS], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const vitest = spawnSync(process.execPath, [join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs'), 'run', '--coverage', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, PACKCHECK_SANDBOX_JS: JS },
});
// The raw dumps (hundreds of MB over the suite) were counted by the provider; the compiled code stays for a look.
rmSync(join(OUT, 'v8'), { recursive: true, force: true });
process.exit(vitest.status ?? 1);
