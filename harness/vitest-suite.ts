// A vitest suite factory for pack authors' own CI: one test per property.
//
//   import { describePackConformance } from 'packcheck/vitest';
//   describePackConformance('my pack', { path: 'target/my_pack.wasm' });
import { availableParallelism } from 'node:os';
import { beforeAll, describe, it } from 'vitest';
import { closeSync, openSync, readSync } from 'node:fs';
import { kindOf, readPack } from './run/pack-file.ts';
import { DEFAULTS } from './run/replay.ts';
import { isFailing, type PackReport, type PropertyResult } from './report/model.ts';
import { resultLine } from './report/terminal.ts';
import { checkWasmPack, selectFrom, selectIds } from './run/wasm-runner.ts';
import { checkNativePack } from './run/native-runner.ts';
import { VTABLE_PROPERTY_IDS } from '../properties/catalog.ts';

function isNative(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    return kindOf(head) === 'elf';
  } catch {
    return false; // readPack reports the missing file in beforeAll
  }
}

export interface ConformanceOptions {
  /** A .wasm pack (wasm ABI) or a shared object (vtable ABI), told apart by magic bytes. */
  path: string;
  /** Native packs: the register symbol (default reflow_pack_register). */
  entrypoint?: string;
  runs?: number;
  seed?: number;
  only?: string[];
  skip?: string[];
  timeoutMs?: number;
  profile?: 'sdk' | 'legacy';
  expectAbi?: number | null;
  jobs?: number;
}

/** Declares a describe block with one test per selected property id. */
export function describePackConformance(name: string, options: ConformanceOptions): void {
  // Tests are declared synchronously, so the kind is read from the file's first bytes now.
  const native = isNative(options.path);
  const ids = native ? selectFrom(VTABLE_PROPERTY_IDS, options.only, options.skip) : selectIds(options.only, options.skip);
  describe(name, () => {
    let report: PackReport;
    beforeAll(async () => {
      const file = await readPack(options.path);
      const common = {
        seed: options.seed ?? 1,
        runs: options.runs ?? DEFAULTS.runs,
        timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
        profile: options.profile ?? DEFAULTS.profile,
        expectAbi: options.expectAbi ?? null,
        only: options.only,
        skip: options.skip,
      };
      report = native ? await checkNativePack(file, { ...common, entrypoint: options.entrypoint }) : await checkWasmPack(file, { ...common, jobs: options.jobs ?? Math.min(4, availableParallelism()) });
    }, 600_000);

    const fail = (rs: PropertyResult[]) => {
      throw new Error(rs.map(resultLine).join('\n'));
    };
    for (const id of ids) {
      it(id, (ctx) => {
        const mine = report.results.filter((r) => r.id === id);
        if (mine.length === 0) throw new Error(`${id}: no result was reported`);
        if (mine.some(isFailing)) fail(mine);
        if (mine.every((r) => r.status === 'skipped')) ctx.skip(mine[0]!.message);
      });
    }
    it('the pack neither hung nor crashed (harness.timeout, harness.crash)', () => {
      const h = report.results.filter((r) => r.id.startsWith('harness.'));
      if (h.length) fail(h);
    });
  });
}
