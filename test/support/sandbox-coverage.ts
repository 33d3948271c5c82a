// Set up by vitest.config.ts in every test worker. Under `npm run coverage`
// (scripts/coverage.mjs sets PACKCHECK_SANDBOX_JS), the worker threads and
// child processes the tests start write Node's own V8 coverage into
// .coverage/v8/ when they end; scripts/coverage-provider.mjs counts it.
// Set here, in the test worker, so that vitest's own processes (started
// before this runs) do not write theirs.
import { join } from 'node:path';

const sandboxJs = process.env.PACKCHECK_SANDBOX_JS;
if (sandboxJs) process.env.NODE_V8_COVERAGE = join(sandboxJs, '..', 'v8');
