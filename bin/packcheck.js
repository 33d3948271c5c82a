#!/usr/bin/env node
// The packcheck command. The caller's pid is taken first, before any import:
// packcheck ends when that process is gone (harness/kernel/lifeline.ts), even if it
// died during start-up.
globalThis[Symbol.for('packcheck.parent')] = process.ppid;
// Built (dist/bin/packcheck.js, what the package ships): the compiled CLI
// next to it, plain JavaScript. In a checkout's sources (bin/packcheck.js, as
// the tests run it) there is no compiled CLI: the TypeScript goes through tsx,
// a devDependency; under `npm run coverage`, the sources' compiled twin
// (PACKCHECK_SANDBOX_JS, scripts/coverage.mjs), so that the CLI is counted.
const { existsSync } = await import('node:fs');
const built = new URL('../harness/cli.js', import.meta.url);
let cli;
if (existsSync(built)) cli = await import(built.href);
else if (process.env.PACKCHECK_SANDBOX_JS) cli = await import(`${process.env.PACKCHECK_SANDBOX_JS}/harness/cli.js`);
else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../harness/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
