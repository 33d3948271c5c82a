// Upstream's instantiate pitfall on its own: destructuring `{ instance }` from
// what WebAssembly.instantiate(Module) resolves to (the Instance itself).
import { makeLoader } from './loader.ts';

export default makeLoader({ destructureInstantiate: true });
