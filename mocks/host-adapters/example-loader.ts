// The example loader: upstream's browser loader as ABI.md describes it, its
// instantiate pitfall left out (see broken-instantiate.ts): shared instances
// never destroyed, zero-length results leaked, blocks leaked when one of two
// allocations fails, a memory view cached across growth, duplicates shadowed,
// out slots trusted.
import { makeLoader, UPSTREAM_PITFALLS } from './loader.ts';

export default makeLoader(UPSTREAM_PITFALLS);
