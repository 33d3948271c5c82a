// Running the battery from the project's own tests: fixed seeds, fewer runs.
import { readPack } from '../../harness/run/pack-file.ts';
import type { PackReport } from '../../harness/report/model.ts';
import { checkWasmPack } from '../../harness/run/wasm-runner.ts';
import { findRustc, type Rustc } from '../../packs-under-test/build.ts';

/** Fewer runs than a real check (100), never zero. */
export const TEST_RUNS = 30;
export const TEST_SEED = 20261201;

export async function check(path: string, opts: { only?: string[]; expectAbi?: number | null; timeoutMs?: number; runs?: number; seed?: number; path?: string } = {}): Promise<PackReport> {
  return checkWasmPack(await readPack(path), {
    seed: opts.seed ?? TEST_SEED,
    runs: opts.runs ?? TEST_RUNS,
    path: opts.path,
    timeoutMs: opts.timeoutMs ?? 2000,
    profile: 'sdk',
    expectAbi: opts.expectAbi ?? null,
    only: opts.only,
    jobs: 2,
  });
}

const found = findRustc();
export const rustc: Rustc | null = 'missing' in found ? null : found;
export const rustcMissing: string | null = 'missing' in found ? found.missing : null;

export function failures(rep: PackReport): string {
  return rep.results
    .filter((r) => r.status === 'failed' || r.status === 'errored')
    .map((r) => `${r.id} (${r.status}): ${r.message}\n  counterexample: ${JSON.stringify(r.counterexample)}\n  replay: ${r.replay}`)
    .join('\n');
}
