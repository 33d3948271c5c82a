// describePackConformance, run the way a pack author's CI runs it: a vitest
// process of its own, one test per property, exit code 1 on a failing pack.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildMutant, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS, NATIVE_MUTANTS } from '../packs-under-test/manifest.ts';
import { rustc } from './support/check.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

async function vitestOn(pack: string, only?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PACKCHECK_FIXTURE_PACK: pack, NO_COLOR: '1' };
  if (only) env.PACKCHECK_FIXTURE_ONLY = only;
  try {
    const r = await run(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/fixtures/vitest.config.ts', '--reporter', 'verbose'], { cwd: ROOT, env, maxBuffer: 1 << 26 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

describe('describePackConformance', () => {
  it.skipIf(!rustc)('takes a native pack too, and fails the property a native mutant breaks', async () => {
    const spec = NATIVE_MUTANTS.find((m) => m.name === 'native-stop-on-reject')!;
    const r = await vitestOn((await buildMutant(spec, rustc))!, 'vtable.register.continues,vtable.register.status-ok');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/× .*vtable\.register\.continues/);
    expect(r.out).toMatch(/✓ .*vtable\.register\.status-ok/);
  });

  it('declares one passing test per property for a conforming pack', async () => {
    const r = await vitestOn(await buildWat(WAT_REFERENCE, 'wat-reference'), 'wasm.register,wasm.alloc.zero,abi.version');
    expect(r.code).toBe(0);
    for (const id of ['wasm.register.status', 'wasm.register.dense-ids', 'wasm.alloc.zero', 'abi.version.stable']) expect(r.out).toMatch(new RegExp(`✓ .*${id.replaceAll('.', '\\.')}`));
    expect(r.out).toMatch(/↓ .*abi\.version\.expected/); // skipped, not passed
  });

  it('fails the test of the property a mutant breaks, with the replay line', async () => {
    const spec = MUTANTS.find((m) => m.name === 'wat-alloc-zero-block')!;
    const r = await vitestOn((await buildMutant(spec, null))!, 'wasm.alloc.zero,wasm.alloc.bounds');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/× .*wasm\.alloc\.zero/);
    expect(r.out).toMatch(/✓ .*wasm\.alloc\.bounds/);
    expect(r.out).toMatch(/replay: packcheck \S+ --only wasm\.alloc\.zero --seed 5/);
  });
});
