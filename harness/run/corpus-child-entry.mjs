// A warm corpus child starts here: the caller's pid is taken first, before
// any import (as bin/packcheck.js does), then ../kernel/own-module.mjs says
// which corpus-child module it runs: built, coverage twin or sources.
globalThis[Symbol.for('packcheck.parent')] = process.ppid;
const { importOwn } = await import('../kernel/own-module.mjs');

await importOwn(import.meta.url, 'corpus-child');
