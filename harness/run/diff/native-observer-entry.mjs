// Child processes of `packcheck diff` on native packs start here
// (../../kernel/own-module.mjs says which native-observer module they run:
// built, coverage twin or sources).
import { importOwn } from '../../kernel/own-module.mjs';

await importOwn(import.meta.url, 'native-observer');
