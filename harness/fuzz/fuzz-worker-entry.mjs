// Fuzz campaign workers start here (../kernel/own-module.mjs says which
// fuzz-worker module they run: built, coverage twin or sources). binaryen is
// imported first, before tsx's loader is registered: through tsx its 14 MB of
// JavaScript takes ~17 s to load instead of ~2 s, and once loaded the module
// cache serves instrument.ts's own import of it. Plain workers (replay,
// confirming a hang) never load it.
import { workerData } from 'node:worker_threads';
import { importOwn } from '../kernel/own-module.mjs';

if (!workerData.plain && !workerData.instrumented) await import('binaryen');
await importOwn(import.meta.url, 'fuzz-worker');
