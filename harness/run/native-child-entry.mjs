// Native packs run in a child process of their own (a crash takes only it
// down); it starts here (../kernel/own-module.mjs says which native-child
// module it runs: built, coverage twin or sources).
import { importOwn } from '../kernel/own-module.mjs';

await importOwn(import.meta.url, 'native-child');
