// Every mutant fails the ids its manifest names; every wasm id of the catalog
// is named by at least one mutant. Prints the mutation score.
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildMutant } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { check, rustc, rustcMissing } from './support/check.ts';

const killed = new Map<string, string[]>();
const ran = new Set<string>();

describe('mutants fail their named properties', () => {
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
      const only = m.mustFail.filter((id) => !id.startsWith('harness.'));
      const rep = await check(path, { only, expectAbi: m.options?.expectBuildAbi ? rustc!.abiVersion : null, timeoutMs: m.options?.timeoutMs });
      ran.add(m.name);
      const failed = new Set(rep.results.filter((r) => r.status === 'failed').map((r) => r.id));
      killed.set(m.name, [...failed]);
      for (const id of m.mustFail) expect(failed, `${m.name} must fail ${id}; results: ${JSON.stringify(rep.results.map((r) => [r.id, r.status, r.message?.slice(0, 200)]))}`).toContain(id);
      // A failure always carries a message and a replay line a person can use.
      for (const r of rep.results.filter((x) => x.status === 'failed')) {
        expect(r.message).toBeTruthy();
        if (!r.id.startsWith('harness.')) expect(r.replay).toMatch(new RegExp(`^packcheck \\S+ --only ${r.id.replaceAll('.', '\\.')} --seed \\d+`));
      }
      expect(rep.exitCode).toBe(1);
    });
  }

  afterAll(() => {
    const score = [...ran].filter((n) => MUTANTS.find((m) => m.name === n)!.mustFail.every((id) => killed.get(n)?.includes(id))).length;
    const covered = new Set([...ran].flatMap((n) => killed.get(n) ?? []));
    const ids = WASM_PROPERTY_IDS.filter((id) => covered.has(id)).length;
    console.log(`mutation score: ${score}/${ran.size} mutants killed (${MUTANTS.length - ran.size} not built here); ${ids}/${WASM_PROPERTY_IDS.length} wasm property ids shown failing`);
  });
});
