// The reference packs pass the whole battery: a harness that flags a correct
// pack is as broken as one that misses a bug.
import { describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildRust, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { WAT_REFERENCE_ABI } from '../packs-under-test/reference.ts';
import { check, failures, rustc, rustcMissing } from './support/check.ts';

describe('reference packs pass every property', () => {
  it('the WAT reference pack', async () => {
    const rep = await check(await buildWat(WAT_REFERENCE, 'wat-reference'), { expectAbi: WAT_REFERENCE_ABI });
    expect(failures(rep)).toBe('');
    expect(rep.results.map((r) => r.id)).toEqual([...WASM_PROPERTY_IDS]);
    expect(rep.summary.skipped).toBe(0);
    // No blocked result, and every property reached its check in some run (no vacuous pass).
    expect(rep.results.filter((r) => r.blockedBy)).toEqual([]);
    expect(rep.results.filter((r) => r.reached === 0)).toEqual([]);
    expect(rep.exitCode).toBe(0);
  });

  it.skipIf(!rustc)(`the Rust reference pack${rustcMissing ? ` (skipped: ${rustcMissing})` : ''}`, async () => {
    const rep = await check(buildRust(rustc!, 'rust-reference'), { expectAbi: rustc!.abiVersion });
    expect(failures(rep)).toBe('');
    expect(rep.results.map((r) => r.id)).toEqual([...WASM_PROPERTY_IDS]);
    expect(rep.summary.skipped).toBe(0);
    expect(rep.results.filter((r) => r.blockedBy || r.reached === 0)).toEqual([]);
    expect(rep.pack.templates.map((t) => t.name)).toEqual(['reference.echo', 'reference.counter']);
  });
});
