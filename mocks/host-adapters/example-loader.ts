// The example loader: upstream's browser loader as ABI.md describes it, its
// instantiate pitfall left out (see broken-instantiate.ts). Like upstream it
// rebuilds memory views after every call and rejects duplicate names; its
// defects: shared instances never destroyed, zero-length results leaked,
// blocks leaked when one of two allocations fails, out slots trusted, bare
// JSON.parse of metadata and of status-0 results, and pointers kept as
// signed i32.
import { makeLoader, UPSTREAM_PITFALLS } from './loader.ts';

export default makeLoader(UPSTREAM_PITFALLS);
