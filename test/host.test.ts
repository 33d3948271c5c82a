// Host conformance: the reference host passes every host.* property, the
// example loader fails exactly the ids of upstream's defects, each
// deliberately broken adapter fails exactly the property it breaks (and a
// host that cannot load blocks the rest), the probe is told apart from any
// other WebAssembly in the process, adapters load as Node loads them, and a
// hanging adapter is cut off.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHost } from '../harness/run/host-runner.ts';
import { HOST_PROPERTY_IDS } from '../properties/catalog.ts';
import { highMemoryUnavailable } from '../properties/host.ts';
import { TEST_RUNS, TEST_SEED } from './support/check.ts';

const ADAPTERS = join(import.meta.dirname, '..', 'mocks', 'host-adapters');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'host-adapters');
const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
const check = (adapter: string, opts: { only?: string[]; timeoutMs?: number; seed?: number } = {}) =>
  checkHost(adapter, { seed: opts.seed ?? TEST_SEED, runs: TEST_RUNS, timeoutMs: opts.timeoutMs ?? 5000, profile: 'sdk', expectAbi: null, only: opts.only });
type Rep = Awaited<ReturnType<typeof check>>;
const failedIds = (rep: Rep) => rep.results.filter((r) => r.status === 'failed').map((r) => r.id);
const blockedIds = (rep: Rep) => rep.results.filter((r) => r.blockedBy).map((r) => r.id);
const verdicts = (rep: Rep) => rep.results.map((r) => [r.id, r.status]);
/** Can this machine grow a wasm memory past 2 GiB? host.pointer.high is skipped (with the reason) where it cannot. */
const HIGH = highMemoryUnavailable() === null;
const withHigh = (ids: string[]) => (HIGH ? ids : ids.filter((i) => i !== 'host.pointer.high'));
const OTHERS = HOST_PROPERTY_IDS.filter((i) => i !== 'host.load.conforming');

function expectReferenceVerdicts(rep: Rep) {
  expect(rep.results.map((r) => r.id)).toEqual([...HOST_PROPERTY_IDS]);
  expect(rep.results.filter((r) => r.status !== 'passed' && !(r.id === 'host.pointer.high' && !HIGH)).map((r) => `${r.id}: ${r.message}`)).toEqual([]);
  expect(blockedIds(rep)).toEqual([]);
  for (const r of rep.results) if (r.status === 'passed') expect(r.reached, r.id).toBe(r.runs);
}

describe('host conformance', () => {
  it('the reference host adapter passes every host property, with no blocked result', async () => {
    const rep = await check(join(ADAPTERS, 'reference-host.ts'));
    expectReferenceVerdicts(rep);
    expect(rep.host.path).toContain('reference-host.ts');
  });

  it('properties on fixed scenarios run each scenario once, and say so', async () => {
    const rep = await check(join(ADAPTERS, 'reference-host.ts'), { only: ['host.create.zero', 'host.output.freed', 'host.register.bad-metadata'] });
    expect(rep.results.map((r) => [r.id, r.runs, r.reached, r.message])).toEqual([
      ['host.output.freed', 4, 4, '4 fixed scenarios, one run each'],
      ['host.create.zero', 1, 1, 'one fixed scenario, run once'],
      ['host.register.bad-metadata', 5, 5, '5 fixed scenarios, one run each'],
    ]);
  });

  it('the example loader (upstream behaviour, corrected facts) fails exactly the ids of its defects, readably', async () => {
    const rep = await check(join(ADAPTERS, 'example-loader.ts'));
    expect(failedIds(rep)).toEqual(
      withHigh(['host.alloc.paired', 'host.output.freed', 'host.output.bounds', 'host.instance.distinct', 'host.instance.destroyed', 'host.output.nonjson-success', 'host.register.bad-metadata', 'host.pointer.high']),
    );
    expect(blockedIds(rep)).toEqual([]);
    const freed = rep.results.find((r) => r.id === 'host.output.freed')!;
    expect(freed.message).toMatch(/out_len 0 .*\n\s+returned: the result never freed\n\s+expected: __reflow_pack_free\(\d+, 1\) exactly once/);
    expect(freed.replay).toMatch(/^packcheck host \S+example-loader\.ts --only host\.output\.freed --seed \d+/);
    if (HIGH) expect(rep.results.find((r) => r.id === 'host.pointer.high')!.message).toMatch(/resolved listing \["wwwwwwwwww"\] \("wwwwwwwwww" is what lies where a signed reading of the metadata pointer 2147483712 wraps to\)/);
    expect(rep.results.find((r) => r.id === 'host.output.nonjson-success')!.message).toMatch(/status 0 and the bytes "not json \{"\n\s+returned: rejected: SyntaxError/);
  });

  it('the instantiate pitfall fails host.load.conforming once, and blocks every other host id', async () => {
    const rep = await check(join(ADAPTERS, 'broken-instantiate.ts'));
    expect(failedIds(rep)).toEqual(['host.load.conforming']);
    expect(rep.results.find((r) => r.id === 'host.load.conforming')!.message).toMatch(/rejected: TypeError: Cannot read properties of undefined \(reading 'exports'\)/);
    expect(blockedIds(rep)).toEqual(OTHERS);
    for (const r of rep.results.filter((x) => x.blockedBy)) {
      expect([r.status, r.blockedBy, r.reached]).toEqual(['skipped', 'host.load.conforming', 0]);
      expect(r.message).toMatch(/^not evaluated: .*TypeError: Cannot read properties of undefined/);
    }
  });

  it('a blocking host.load.conforming is evaluated and reported even when --only leaves it out', async () => {
    const rep = await check(join(ADAPTERS, 'broken-instantiate.ts'), { only: ['host.create.zero', 'host.register.duplicate'] });
    expect(verdicts(rep)).toEqual([
      ['host.load.conforming', 'failed'],
      ['host.create.zero', 'skipped'],
      ['host.register.duplicate', 'skipped'],
    ]);
    expect(blockedIds(rep)).toEqual(['host.create.zero', 'host.register.duplicate']);
  });

  it('a host that creates no actor: what needs an actor is skipped with the reason, never passed; instance.distinct fails', async () => {
    const rep = await check(join(FIXTURES, 'create-rejects.ts'));
    expect(failedIds(rep)).toEqual(['host.instance.distinct']);
    expect(blockedIds(rep)).toEqual([]);
    const skipped = rep.results.filter((r) => r.status === 'skipped');
    expect(skipped.map((r) => r.id)).toEqual([
      'host.alloc.paired',
      'host.output.freed',
      'host.memory.regrow',
      'host.run.live-blocks',
      'host.output.bounds',
      'host.error.nonjson',
      'host.instance.destroyed',
      'host.payload.roundtrip',
      'host.output.nonjson-success',
      ...withHigh(['host.pointer.high']),
    ]);
    for (const r of skipped) {
      expect(r.reached, r.id).toBe(0);
      expect(r.message, r.id).toMatch(/^not evaluated: .*create\("probe\.echo"\) rejected: Error: this host creates no actors/);
    }
  });

  const broken = readdirSync(join(ADAPTERS, 'broken')).map((f) => f.replace(/\.ts$/, ''));
  it('has one broken adapter per host property', () => {
    expect(broken.map((n) => `host.${n.replace('-', '.')}`).sort()).toEqual([...HOST_PROPERTY_IDS].sort());
  });

  for (const name of broken) {
    const id = `host.${name.replace('-', '.')}`;
    it(`broken/${name} fails exactly ${id}`, async () => {
      const rep = await check(join(ADAPTERS, 'broken', `${name}.ts`));
      if (id === 'host.pointer.high' && !HIGH) {
        expect(failedIds(rep)).toEqual([]);
        return;
      }
      expect(failedIds(rep)).toEqual([id]);
      expect(blockedIds(rep)).toEqual(id === 'host.load.conforming' ? OTHERS : []);
      expect(rep.results.find((x) => x.id === id)!.message).toMatch(/returned: .*\n\s+expected: /);
    });
  }

  it('the probe is identified by its module: other WebAssembly in the process (Node\'s llhttp, the adapter\'s own) changes nothing, and a seed repeats', async () => {
    const reps = [];
    for (let i = 0; i < 3; i++) reps.push(await check(join(FIXTURES, 'noisy-adapter.ts')));
    const stable = (rep: Rep) => JSON.stringify({ ...rep, durationMs: 0, summary: { ...rep.summary, durationMs: 0 }, results: rep.results.map((r) => ({ ...r, durationMs: 0 })) });
    expect(stable(reps[1]!)).toBe(stable(reps[0]!));
    expect(stable(reps[2]!)).toBe(stable(reps[0]!));
    expectReferenceVerdicts(reps[0]!);
    expect(verdicts(reps[0]!)).toEqual(verdicts(await check(join(ADAPTERS, 'reference-host.ts'))));
  });

  it('a JavaScript adapter is imported by Node\'s own loader: an ESM .js SDK in a folder without "type": "module" works', async () => {
    expectReferenceVerdicts(await check(join(FIXTURES, 'sdk-layout', 'adapter.mjs')));
    const { code, stdout } = await runCli(['host', join(FIXTURES, 'sdk-layout', 'adapter.mjs'), '--seed', '2', '--runs', '5']);
    expect(code, stdout).toBe(0);
  });

  it('an adapter that cannot be imported: exit 2, one line naming the module and the import error', async () => {
    const adapter = join(FIXTURES, 'missing-import.mjs');
    const { code, stdout, stderr } = await runCli(['host', adapter]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^packcheck: \S+missing-import\.mjs: the adapter module could not be imported: Error \[ERR_MODULE_NOT_FOUND\]: Cannot find module '\S+no-such-sdk\/loader\.js' imported from \S+missing-import\.mjs$/)]);
  });

  it('an adapter call that never returns is cut off as harness.timeout and the check goes on', async () => {
    const rep = await check(join(import.meta.dirname, 'fixtures', 'hanging-adapter.ts'), { only: ['host.output.freed', 'host.register.duplicate'], timeoutMs: 1000 });
    expect(verdicts(rep)).toEqual([
      ['host.output.freed', 'failed'],
      ['harness.timeout', 'failed'],
      ['host.register.duplicate', 'passed'],
    ]);
    const t = rep.results.find((r) => r.id === 'harness.timeout')!;
    expect(t.message).toMatch(/^during host\.output\.freed: the adapter call run\(actor, .*\) did not settle within 1000 ms/);
  });

  it('a hang in a step the property does not check blocks it (by harness.timeout) instead of failing it', async () => {
    const rep = await check(join(FIXTURES, 'hanging-unload.ts'), { only: ['host.output.freed'], timeoutMs: 1000 });
    expect(verdicts(rep)).toEqual([
      ['host.load.conforming', 'skipped'],
      ['harness.timeout', 'failed'],
      ['host.output.freed', 'skipped'],
    ]);
    expect(rep.results.map((r) => r.blockedBy ?? null)).toEqual(['harness.timeout', null, 'harness.timeout']);
    expect(rep.results[1]!.message).toMatch(/^during host\.load\.conforming: the adapter call unload\(\) did not settle within 1000 ms/);
  });

  it('packcheck host writes report@1 with "host" in place of "pack", and exits 1 on a failing host', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'packcheck-host-')), 'h.json');
    const { code } = await runCli(['host', join(ADAPTERS, 'broken', 'register-duplicate.ts'), '--only', 'host.register', '--seed', '2', '--runs', '5', '--json', json]);
    expect(code).toBe(1);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.schema).toBe('packcheck/report@1');
    expect(rep.pack).toBeUndefined();
    expect(rep.host.path).toContain('register-duplicate.ts');
    expect(rep.results.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['host.register.once', 'passed'],
      ['host.register.bad-metadata', 'passed'],
      ['host.register.duplicate', 'failed'],
    ]);
  });
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
