// A Rust native host (mocks/native-hosts/rust_adapter.rs) against the probe
// packs of `packcheck host --native`: it takes each handle a probe's factory
// returns as a Box<PackActorHandle> holding an Arc<dyn Actor> and drops it,
// and must pass every nhost.* id under the allocation tracker. Two mutants
// of it show the checks can fail: one that drops the handles after dlclose
// (the drop reads into the probe's image: a crash, so the reference's drop
// is real), one that drops each handle twice (the box read and freed after
// its free, which glibc's own heap checks catch in a run without the
// tracker; the tracker counts only the registrations' blocks).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProbe, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from '../harness/hosts/native/probes/probe-packs.ts';
import { checkNativeHost } from '../harness/run/nhost-runner.ts';
import { buildRustAdapter } from '../mocks/native-hosts/native-hosts.ts';
import { NHOST_PROPERTY_IDS } from '../properties/catalog.ts';
import { rustc, rustcMissing } from './support/check.ts';

const nativeHere = process.platform === 'linux' && process.arch === 'x64';
const skipWhy = rustcMissing ?? (nativeHere ? null : 'native host checks run on x86_64 Linux only');
/** Generous for a loaded CI machine: no scenario should come near it. */
const TIMEOUT_MS = 8000;

const check = (adapter: string) => checkNativeHost(adapter, { seed: 1, runs: 100, timeoutMs: TIMEOUT_MS, profile: 'sdk', expectAbi: rustc!.abiVersion, jobs: 2 });
type Rep = Awaited<ReturnType<typeof check>>;
const ids = (rep: Rep, pick: (r: Rep['results'][number]) => boolean) => rep.results.filter(pick).map((r) => r.id).sort();

/** Runs an adapter on one scenario's probes by hand, without the tracker: glibc's heap checks alone. */
function runBare(adapter: string, scenario: ScenarioName) {
  const events = join(mkdtempSync(join(tmpdir(), 'packcheck-rust-adapter-')), 'events.jsonl');
  const packs = SCENARIOS[scenario].map((p) => buildProbe(p, rustc!.abiVersion));
  const env: NodeJS.ProcessEnv = { ...process.env, PACKCHECK_EVENTS: events };
  delete env.LD_PRELOAD;
  delete env.PACKCHECK_PROBE_LOG;
  const run = spawnSync(adapter, packs, { env, encoding: 'utf8', timeout: TIMEOUT_MS });
  const lines = readFileSync(events, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { ev: string; ok?: boolean });
  return { run, lines, replay: `PACKCHECK_EVENTS=${events} ${adapter} ${packs.join(' ')}` };
}

describe.skipIf(!!skipWhy)(`a Rust native host that takes and drops the probes' actor handles${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  it('passes every nhost id under the allocation tracker: none failed, none blocked, drop.once exercised, every scenario exited 0', async () => {
    const rep = await check(buildRustAdapter(rustc!));
    expect(rep.results.map((r) => [r.id, r.status, r.message ?? ''])).toEqual(NHOST_PROPERTY_IDS.map((id) => [id, 'passed', '']));
    expect(rep.exitCode).toBe(0);
    expect(rep.host.abi).toBe(rustc!.abiVersion);
    expect(rep.host.scenarios.map((s) => [s.name, s.end, s.stderr])).toEqual(SCENARIO_NAMES.map((s) => [s, { type: 'exited', code: 0 }, '']));
    // What it says it did (kept, never parsed by packcheck): both conforming actors taken and dropped.
    expect(rep.host.scenarios.find((s) => s.name === 'conforming')!.stdout).toBe('rust adapter: loading 1 pack(s)\nrust adapter: dropped 2 actor handle(s)\n');
  });

  it('dropping the handles after dlclose crashes in the conforming scenario: the drop reaches into the probe, so the passing run really dropped them', async () => {
    const rep = await check(buildRustAdapter(rustc!, undefined, 'drop-after-unload'));
    expect(ids(rep, (r) => r.status === 'failed')).toEqual(['harness.crash', 'nhost.load.conforming']);
    expect(ids(rep, (r) => r.blockedBy === 'nhost.load.conforming')).toEqual(NHOST_PROPERTY_IDS.filter((i) => i !== 'nhost.load.conforming').sort());
    expect(rep.results.find((r) => r.id === 'harness.crash')!.message).toMatch(/^scenario conforming: the adapter process was killed with SIGSEGV \(a crash\); last event: \{"ev":"unload",/);
    expect(rep.exitCode).toBe(1);
  });

  it.each(SCENARIO_NAMES.map((s) => [s]))('without the tracker, glibc\'s heap checks see no bad free in scenario %s', (scenario) => {
    const { run, lines, replay } = runBare(buildRustAdapter(rustc!), scenario);
    expect([run.signal, run.status, run.stderr], replay).toEqual([null, 0, '']);
    expect(lines.filter((l) => l.ev === 'create' && l.ok === true).length, replay).toBe(Number(/dropped (\d+) actor handle/.exec(run.stdout)?.[1]));
  });

  it('a handle dropped twice kills the bare run (so the check above can fail)', () => {
    const { run, replay } = runBare(buildRustAdapter(rustc!, undefined, 'drop-twice'), 'conforming');
    // The second drop first reads the freed box (glibc's free list now sits in
    // it: usually a segfault), then frees it again (glibc aborts): a crash either way.
    expect(run.status, replay).toBe(null);
    expect(['SIGSEGV', 'SIGABRT'], replay).toContain(run.signal);
  });
});
