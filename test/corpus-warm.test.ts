// Warm corpus children (harness/run/corpus-child.ts): a child that dies takes
// only the pack it was checking; the packs after it get a fresh child.
import { describe, expect, it } from 'vitest';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { checkCorpus } from '../harness/run/corpus.ts';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('warm corpus children', () => {
  it('a child killed before its first pack: that pack is harness.crash, the next packs are checked by a fresh child', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'packcheck-warm-'));
    try {
      const wasm = await buildWat(WAT_REFERENCE, 'wat-reference');
      const files = ['a.wasm', 'b.wasm', 'c.wasm'].map((n) => join(dir, n));
      for (const f of files) copyFileSync(wasm, f);
      const children: number[] = [];
      const options = { seed: 1, runs: 5, timeoutMs: 2000, profile: 'sdk' as const };
      const reports = await checkCorpus(files, {
        childArgs: ['--seed', '1', '--runs', '5', '--only', 'wasm.shape.exports,wasm.register.status'],
        options,
        jobs: 1,
        onChild: (pid) => {
          children.push(pid);
          if (children.length === 1) process.kill(pid, 'SIGKILL');
        },
      });
      expect(children).toHaveLength(2);
      expect(reports.map((r) => r.pack.path)).toEqual(files);
      expect(reports[0]!.results.map((r) => [r.id, r.status])).toEqual([['harness.crash', 'failed']]);
      expect(reports[0]!.results[0]!.message).toMatch(/^the checker of this pack died \(the child process ended before the check started\)/);
      for (const r of reports.slice(1)) {
        expect(r.results.map((x) => [x.id, x.status])).toEqual([
          ['wasm.shape.exports', 'passed'],
          ['wasm.register.status', 'passed'],
        ]);
        expect(r.exitCode).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
