// Every mutant, over the whole battery, fails exactly the ids its manifest
// names and blocks exactly the ids it lists (PROPERTIES.md, Attribution: one
// defect, one failure). The mutation score is an assertion: every mutant
// killed, every wasm id shown failing by some mutant.
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildMutant } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { check, rustc, rustcMissing } from './support/check.ts';

const killed = new Map<string, string[]>();
const ran = new Set<string>();
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('mutants fail exactly their named properties', () => {
  it('the manifest names every wasm property id, and at least 15 mutants', () => {
    const named = new Set(MUTANTS.flatMap((m) => m.mustFail));
    expect(WASM_PROPERTY_IDS.filter((id) => !named.has(id))).toEqual([]);
    expect(MUTANTS.length).toBeGreaterThanOrEqual(15);
    expect(new Set(MUTANTS.map((m) => m.name)).size).toBe(MUTANTS.length);
  });

  for (const m of MUTANTS) {
    const unavailable = m.source === 'rust' && !rustc;
    it.skipIf(unavailable)(`${m.name}: ${m.defect}${unavailable ? ` (skipped: ${rustcMissing})` : ''}`, async () => {
      const path = (await buildMutant(m, rustc))!;
      const rep = await check(path, { expectAbi: m.options?.expectBuildAbi ? rustc!.abiVersion : null, timeoutMs: m.options?.timeoutMs });
      ran.add(m.name);
      const failed = sorted(rep.results.filter((r) => r.status === 'failed' || r.status === 'errored').map((r) => r.id));
      killed.set(m.name, failed);
      const shown = JSON.stringify(rep.results.filter((r) => r.status !== 'passed').map((r) => [r.id, r.status, r.blockedBy, r.message?.slice(0, 200)]));
      expect(failed, `${m.name}: failing ids; results: ${shown}`).toEqual(sorted(m.mustFail));
      expect(sorted(rep.results.filter((r) => r.blockedBy).map((r) => r.id)), `${m.name}: blocked ids`).toEqual(sorted(m.blocked ?? []));
      for (const r of rep.results) {
        // A blocked result names a failure of the same report, and says which step broke.
        if (r.blockedBy) {
          expect(r.status).toBe('skipped');
          expect(failed).toContain(r.blockedBy);
          expect(r.message).toMatch(/^not evaluated/);
        }
        // A failure always carries a message and a replay line a person can use.
        if (r.status === 'failed') {
          expect(r.message).toBeTruthy();
          if (!r.id.startsWith('harness.')) expect(r.replay).toMatch(new RegExp(`^packcheck \\S+ --only ${r.id.replaceAll('.', '\\.')} --seed \\d+`));
        }
      }
      expect(rep.exitCode).toBe(1);
    });
  }

  afterAll(() => {
    // Only meaningful when every mutant ran (the Rust ones need Debian's rustc).
    if (ran.size !== MUTANTS.length) return;
    const score = [...ran].filter((n) => JSON.stringify(killed.get(n)) === JSON.stringify(sorted(MUTANTS.find((m) => m.name === n)!.mustFail))).length;
    const covered = new Set([...ran].flatMap((n) => killed.get(n) ?? []));
    const ids = WASM_PROPERTY_IDS.filter((id) => covered.has(id));
    console.log(`mutation score: ${score}/${ran.size} mutants killed exactly; ${ids.length}/${WASM_PROPERTY_IDS.length} wasm property ids shown failing`);
    expect(score).toBe(MUTANTS.length);
    expect(WASM_PROPERTY_IDS.filter((id) => !covered.has(id))).toEqual([]);
  });
});
