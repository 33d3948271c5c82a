// Worker threads of `packcheck diff` start here (../../kernel/own-module.mjs
// says which wasm-observer module they run: built, coverage twin or sources).
import { importOwn } from '../../kernel/own-module.mjs';

await importOwn(import.meta.url, 'wasm-observer');
