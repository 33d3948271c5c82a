// The pack's conformance suite: one vitest test per packcheck property id
// (wasm.alloc.zero, wasm.run.valid-payload, …), failing with packcheck's
// counterexample and replay line. Build the pack first: npm run build.
import { describePackConformance } from 'packcheck/vitest';

describePackConformance('echo pack', { path: 'pack/echo.wasm', runs: 20, seed: 1 });
