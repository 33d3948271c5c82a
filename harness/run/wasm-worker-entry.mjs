// Worker threads of the wasm battery start here (../kernel/own-module.mjs
// says which wasm-worker module they run: built, coverage twin or sources).
import { importOwn } from '../kernel/own-module.mjs';

await importOwn(import.meta.url, 'wasm-worker');
