// Native host conformance (`packcheck host --native`): the reference C
// adapter passes every nhost.* id; each broken adapter (adapter.c with one
// #define) fails exactly the ids of its defect, with the rest passing or
// blocked as its manifest says; the upstream-like adapter fails the ids of
// upstream's defects; hangs, crashes and malformed events are reported and
// the run finishes; the events format is parsed strictly; the CLI refuses
// bad input with exit 2 and one line.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEvents } from '../harness/hosts/native/probes/events.ts';
import { SCENARIOS } from '../harness/hosts/native/probes/probe-packs.ts';
import { checkNativeHost, NativeHostSetupError } from '../harness/run/nhost-runner.ts';
import { BROKEN_HOSTS, buildNativeHost, REFERENCE_HOST, TEST_HOST_ABI, type NativeHostSpec } from '../mocks/native-hosts/native-hosts.ts';
import { NHOST_PROPERTY_IDS } from '../properties/catalog.ts';
import { DROP_NEVER_EXERCISED } from '../properties/nhost.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
/** Generous for a loaded CI machine; the hanging adapter gets a short one so the test stays quick. */
const TIMEOUT_MS = 8000;
const HANG_TIMEOUT_MS = 1500;

const check = (spec: NativeHostSpec, opts: { only?: string[] } = {}) =>
  checkNativeHost(buildNativeHost(spec), { seed: 1, runs: 100, timeoutMs: spec.name === 'hang' ? HANG_TIMEOUT_MS : TIMEOUT_MS, profile: 'sdk', expectAbi: TEST_HOST_ABI, jobs: 2, ...opts });
type Rep = Awaited<ReturnType<typeof check>>;
const ids = (rep: Rep, pick: (r: Rep['results'][number]) => boolean) => rep.results.filter(pick).map((r) => r.id).sort();
const failed = (rep: Rep) => ids(rep, (r) => r.status === 'failed');
const blocked = (rep: Rep) => ids(rep, (r) => !!r.blockedBy);
const skippedWithReason = (rep: Rep) => ids(rep, (r) => r.status === 'skipped' && !r.blockedBy);
const errored = (rep: Rep) => ids(rep, (r) => r.status === 'errored');
const result = (rep: Rep, id: string) => rep.results.find((r) => r.id === id)!;
const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('native host conformance', () => {
  it('the reference adapter passes every nhost id: none failed, none blocked, drop.once exercised', async () => {
    const rep = await check(REFERENCE_HOST);
    expect(rep.results.map((r) => [r.id, r.status, r.message ?? ''])).toEqual(NHOST_PROPERTY_IDS.map((id) => [id, 'passed', '']));
    expect(rep.exitCode).toBe(0);
    expect(rep.host.kind).toBe('native');
    expect(rep.host.abi).toBe(TEST_HOST_ABI);
    // Every scenario ran, each in a process of its own that exited 0; the adapter's stdout is kept, not parsed.
    expect(rep.host.scenarios.map((s) => [s.name, s.end])).toEqual(Object.keys(SCENARIOS).map((s) => [s, { type: 'exited', code: 0 }]));
    expect(rep.host.scenarios.find((s) => s.name === 'rollback')!.stdout).toBe('adapter: loading 2 pack(s)\n');
  });

  it.concurrent.each(BROKEN_HOSTS.map((h) => [h.name, h] as const))('broken adapter %s fails exactly its ids', async (_name, spec) => {
    const rep = await check(spec);
    expect(failed(rep), spec.defect).toEqual(sorted(spec.mustFail));
    expect(blocked(rep), spec.defect).toEqual(sorted(spec.blocked));
    expect(skippedWithReason(rep), spec.defect).toEqual(sorted(spec.skipped));
    expect(errored(rep), spec.defect).toEqual(sorted(spec.errored));
    expect(rep.exitCode).toBe(spec.mustFail.length || spec.errored?.length ? 1 : 0);
    // blockedBy always names a failed result of the same report.
    for (const r of rep.results.filter((x) => x.blockedBy)) expect(failed(rep)).toContain(r.blockedBy);
  });

  it('every nhost id is killed by at least one broken adapter (mutation score 100 %)', () => {
    const killed = new Set(BROKEN_HOSTS.flatMap((h) => h.mustFail));
    expect(NHOST_PROPERTY_IDS.filter((id) => !killed.has(id))).toEqual([]);
  });

  it('the upstream-like adapter: the double free on Duplicate, the kept templates and the file-name identity, readably; drop.once skipped with the reason', async () => {
    const rep = await check(BROKEN_HOSTS.find((h) => h.name === 'upstream')!);
    expect(result(rep, 'nhost.drop.rejected').message).toMatch(/^scenario duplicate: the rejected registration repeated id of probe duplicate \(answered -3; the pack reclaimed its user_data\)\n\s+returned: drop\(user_data\) called 1 time\(s\): a double free in an SDK-built pack\n\s+expected: no drop call for a rejected registration/);
    expect(result(rep, 'nhost.load.rollback').message).toMatch(/registering the same two names\n\s+returned: one: status -3, two: status -3\n\s+expected: both accepted \(0\)/);
    expect(result(rep, 'nhost.pack.identity').message).toMatch(/listed \["nhost\.same\.a"\]; its register never ran/);
    expect(result(rep, 'nhost.drop.once').message).toContain(DROP_NEVER_EXERCISED);
    expect(result(rep, 'nhost.pack.identity').replay).toMatch(/^packcheck host \S+nhost-adapter-upstream --only nhost\.pack\.identity --seed 1 --timeout-ms 8000 --expect-abi 2522422 --native$/);
  });

  it('a rejected user_data freed by the host is seen by the allocation tracker alone', async () => {
    const rep = await check(BROKEN_HOSTS.find((h) => h.name === 'free-rejected')!);
    expect(result(rep, 'nhost.drop.rejected').message).toMatch(/returned: the allocation tracker saw its user_data freed 1 time\(s\) by the host/);
    expect(result(rep, 'nhost.drop.rejected').message).not.toMatch(/drop\(user_data\) called/);
  });

  it('a hang is harness.timeout naming the scenario and the last event; a crash is harness.crash naming the signal and the scenario', async () => {
    const [hang, crash, factory] = await Promise.all(['hang', 'crash', 'crash-null-factory'].map((n) => check(BROKEN_HOSTS.find((h) => h.name === n)!)));
    expect(result(hang!, 'harness.timeout').message).toMatch(/^scenario conforming: the adapter did not finish within 1500 ms \(--timeout-ms\) and was killed; last event: \(no event yet\)/);
    expect(result(crash!, 'harness.crash').message).toMatch(/^scenario conforming: the adapter process was killed with SIGSEGV \(a crash\); last event: \{"ev":"template",.*"name":"nhost\.conforming\.beta"\}/);
    expect(result(factory!, 'harness.crash').message).toMatch(/^scenario factory-null: the adapter process was killed with SIGSEGV/);
    expect(result(factory!, 'nhost.factory.null').message).toMatch(/^scenario factory-null: the adapter process was killed with SIGSEGV/);
    // The harness result comes right after the property whose scenario it cut off.
    const order = factory!.results.map((r) => r.id);
    expect(order.indexOf('harness.crash')).toBe(order.indexOf('nhost.factory.null') + 1);
  });

  it('a malformed events line is the adapter\'s error, with its line number; a missing tracker says so', async () => {
    const [bad, noTracker] = await Promise.all(['malformed-events', 'drop-preload'].map((n) => check(BROKEN_HOSTS.find((h) => h.name === n)!)));
    expect(result(bad!, 'nhost.load.conforming').message).toMatch(/^scenario conforming: the adapter wrote a malformed line 1 to PACKCHECK_EVENTS: not JSON/);
    expect(result(noTracker!, 'nhost.load.conforming').message).toMatch(/^the allocation tracker is not active in the adapter process/);
  });

  it('--only still runs nhost.load.conforming first, and reports it when it blocks', async () => {
    const ok = await check(REFERENCE_HOST, { only: ['nhost.factory.null'] });
    expect(ok.results.map((r) => [r.id, r.status])).toEqual([['nhost.factory.null', 'passed']]);
    expect(ok.host.scenarios.map((s) => s.name)).toEqual(['conforming', 'factory-null']);
    const broken = await check(BROKEN_HOSTS.find((h) => h.name === 'no-templates')!, { only: ['nhost.factory.null'] });
    expect(broken.results.map((r) => [r.id, r.status, r.blockedBy])).toEqual([
      ['nhost.load.conforming', 'failed', undefined],
      ['nhost.factory.null', 'skipped', 'nhost.load.conforming'],
    ]);
  });

  it('without the host ABI version the runner refuses to start', async () => {
    await expect(checkNativeHost(buildNativeHost(REFERENCE_HOST), { seed: 1, runs: 1, timeoutMs: 1000, profile: 'sdk', expectAbi: null })).rejects.toThrow(NativeHostSetupError);
  });
});

describe('the events file is parsed strictly', () => {
  const packs = ['/p/a.so'];
  it.each([
    ['not JSON', '{"ev":"load"', /^not JSON/],
    ['an array', '[1]', /^not a JSON object/],
    ['an unknown event', '{"ev":"loaded","path":"/p/a.so","ok":true}', /^"ev" is "loaded"/],
    ['a missing member', '{"ev":"template","path":"/p/a.so"}', /^"name" must be a string in a "template" event/],
    ['a wrong type', '{"ev":"load","path":"/p/a.so","ok":"yes"}', /^"ok" must be a boolean/],
    ['a failure without its error', '{"ev":"create","path":"/p/a.so","name":"x","ok":false}', /^"error" must be a string in a "create" event with "ok": false/],
    ['an unknown member', '{"ev":"unload","path":"/p/a.so","ok":true,"extra":1}', /^unknown member "extra"/],
    ['a path it was not given', '{"ev":"load","path":"a.so","ok":true}', /is none of the packs it was given/],
  ])('%s is reported with its line, the events before it kept', (_what, line, why) => {
    const parsed = parseEvents(`{"ev":"load","path":"/p/a.so","ok":true}\n${line}\n{"ev":"unload","path":"/p/a.so","ok":true}\n`, packs);
    expect(parsed.events).toEqual([{ ev: 'load', path: '/p/a.so', ok: true }]);
    expect(parsed.malformed?.line).toBe(2);
    expect(parsed.malformed?.why).toMatch(why);
  });

  it('well-formed lines parse, with or without a final newline', () => {
    const text = '{"ev":"load","path":"/p/a.so","ok":false,"error":"no"}\n{"ev":"create","path":"/p/a.so","name":"x","ok":true}';
    expect(parseEvents(text, packs)).toEqual({ events: [{ ev: 'load', path: '/p/a.so', ok: false, error: 'no' }, { ev: 'create', path: '/p/a.so', name: 'x', ok: true }], malformed: null });
  });
});

describe('packcheck host --native', () => {
  const dir = mkdtempSync(join(tmpdir(), 'packcheck-nhost-cli-'));
  const notExec = join(dir, 'adapter.sh');
  writeFileSync(notExec, '#!/bin/sh\n');
  chmodSync(notExec, 0o644);

  it.concurrent.each([
    ['no --expect-abi', () => ['host', '--native', buildNativeHost(REFERENCE_HOST)], /^packcheck: host --native needs the host's ABI version: pass --expect-abi N, or --rustc-vv FILE/],
    ['a missing adapter', () => ['host', '--native', join(dir, 'nope'), '--expect-abi', '1'], /: no such adapter executable;/],
    ['an adapter that is not executable', () => ['host', '--native', notExec, '--expect-abi', '1'], /adapter\.sh: not executable; chmod \+x it/],
    ['--native without host', () => ['x.so', '--native'], /^packcheck: --native goes with host/],
  ])('%s: exit 2, one line', async (_what, args, line) => {
    const r = await run(args());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(line);
  });

  it('writes report@1 with "host": {"path", "kind": "native"}, JUnit and HTML; exit 1 on a failing host', async () => {
    const adapter = buildNativeHost(BROKEN_HOSTS.find((h) => h.name === 'upstream')!);
    const json = join(dir, 'r.json');
    const junit = join(dir, 'r.xml');
    const html = join(dir, 'r.html');
    const r = await run(['host', '--native', adapter, '--expect-abi', String(TEST_HOST_ABI), '--timeout-ms', '8000', '--json', json, '--junit', junit, '--html', html]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}nhost\.drop\.rejected/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect([rep.schema, rep.host.path, rep.host.kind]).toEqual(['packcheck/report@1', adapter, 'native']);
    expect(rep.results.filter((x: { status: string }) => x.status === 'failed').map((x: { id: string }) => x.id)).toEqual(['nhost.drop.rejected', 'nhost.load.rollback', 'nhost.pack.identity']);
    expect(readFileSync(junit, 'utf8')).toMatch(/<failure[^>]*>[^<]*nhost\.drop\.rejected|nhost\.drop\.rejected[\s\S]*<failure/);
    expect(readFileSync(html, 'utf8')).toContain('nhost.pack.identity');
  });
});
