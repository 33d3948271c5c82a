// Speed work must not change what a check finds: for a fixed seed, the whole
// report (verdicts, messages, counterexamples, replay lines, run counts, the
// memory timeline) equals the golden recorded from the code as it was before
// the speed work (test/fixtures/golden/, written with PACKCHECK_WRITE_GOLDEN=1).
// Only durations and the pack's path on this machine are left out. The cases
// run one after another on kept worker threads, as packs do in a warm corpus
// child, so a report that depended on an earlier pack would show here too.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMutant, buildRust, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { WAT_REFERENCE_ABI } from '../packs-under-test/reference.ts';
import type { PackReport } from '../harness/report/model.ts';
import { endKeptWorkers, keepWorkersForNextPack } from '../harness/run/wasm-runner.ts';
import { check, rustc, rustcMissing } from './support/check.ts';

const GOLDEN_DIR = join(import.meta.dirname, 'fixtures', 'golden');
const WRITE = process.env.PACKCHECK_WRITE_GOLDEN === '1';

interface Case {
  name: string;
  seed: number;
  needsRust: boolean;
  build: () => Promise<string>;
  expectAbi: () => number | null;
}

const mutant = (name: string, seed: number): Case => {
  const spec = MUTANTS.find((m) => m.name === name)!;
  return { name, seed, needsRust: spec.source === 'rust', build: async () => (await buildMutant(spec, rustc))!, expectAbi: () => (spec.options?.expectBuildAbi ? rustc!.abiVersion : null) };
};

// The references pass everything; the mutants cover integrity findings, shrunk
// counterexamples, large payloads, traps and properties blocked by a broken step.
const CASES: Case[] = [
  { name: 'wat-reference', seed: 20261201, needsRust: false, build: () => buildWat(WAT_REFERENCE, 'wat-reference'), expectAbi: () => WAT_REFERENCE_ABI },
  { name: 'rust-reference', seed: 1, needsRust: true, build: async () => buildRust(rustc!, 'rust-reference'), expectAbi: () => rustc!.abiVersion },
  mutant('rust-payload-scribble', 7),
  mutant('rust-result-in-payload', 20261201),
  mutant('rust-output-bad-integer', 3),
  mutant('rust-payload-fixed-buffer', 20261201),
  mutant('rust-alloc-overlap', 20261201),
  mutant('wat-run-traps', 11),
];

/**
 * The report with what legitimately differs between runs taken out: durations
 * and this machine's path of the pack. The memory timeline (a thousand samples
 * or more) is kept as its length and digest, so the goldens stay small.
 */
function comparable(rep: PackReport): unknown {
  const timeline = rep.timeline && { samples: rep.timeline.length, sha256: createHash('sha256').update(JSON.stringify(rep.timeline)).digest('hex') };
  const text = JSON.stringify({ ...rep, timeline }, (key, value) => (key === 'durationMs' ? undefined : value));
  return JSON.parse(text.replaceAll(JSON.stringify(rep.pack.path).slice(1, -1), '<pack>'));
}

describe('same seed, same report as before the speed work', () => {
  // As in a warm corpus child: the worker threads of one pack's check serve the next packs' checks.
  // A report that depended on what a worker did before would differ from its golden here.
  keepWorkersForNextPack();
  afterAll(endKeptWorkers);
  for (const c of CASES) {
    const unavailable = c.needsRust && !rustc;
    it.skipIf(unavailable)(`${c.name}, seed ${c.seed}, 30 runs${unavailable ? ` (skipped: ${rustcMissing})` : ''}`, async () => {
      const path = await c.build();
      const rep = comparable(await check(path, { seed: c.seed, expectAbi: c.expectAbi() })) as { pack: { sha256: string } };
      const file = join(GOLDEN_DIR, `${c.name}.json`);
      if (WRITE) {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(file, `${JSON.stringify(rep, null, 1)}\n`);
      }
      expect(existsSync(file), `${file} is missing: record it with PACKCHECK_WRITE_GOLDEN=1 from the code before the change`).toBe(true);
      const golden = JSON.parse(readFileSync(file, 'utf8')) as { pack: { sha256: string } };
      // A Rust pack built by another rustc is another pack: its addresses and messages legitimately differ.
      if (c.needsRust && golden.pack.sha256 !== rep.pack.sha256) {
        console.log(`${c.name}: not compared, this rustc builds a different pack than the golden's (${golden.pack.sha256.slice(0, 12)})`);
        return;
      }
      expect(rep).toEqual(golden);
    });
  }
});
