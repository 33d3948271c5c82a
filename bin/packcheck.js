#!/usr/bin/env node
// packcheck is written in TypeScript and runs through tsx (a dependency).
// The caller's pid is taken first, before any import: packcheck ends when
// that process is gone (harness/lifeline.ts), even if it died during start-up.
globalThis[Symbol.for('packcheck.parent')] = process.ppid;
const { register } = await import('tsx/esm/api');

register();
const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv.slice(2));
