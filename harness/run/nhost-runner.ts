// `packcheck host --native ADAPTER`: a native loader, through its adapter
// executable, against probe packs. Each scenario (probe-packs.ts) is one
// fresh adapter process `ADAPTER PACK…`, with the allocation tracker
// preloaded, PACKCHECK_EVENTS and PACKCHECK_PROBE_LOG naming fresh files, on
// the kernel's sandbox (one question: run to the end; the answer is the exit,
// the watchdog's verdict a hang, a signal a crash). The conforming scenario
// runs first: when nhost.load.conforming does not pass, every other id is
// blocked by it and no other scenario runs. The rest run side by side.
//
// Before a property is judged its scenarios are settled here: one cut off by
// a hang or a signal fails the property that scenario exists for (its checked
// step) and blocks the others that need its whole record (unless they fail
// on another scenario); one whose events file breaks the format leaves the
// properties that need it `errored`, with the line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StepBroken } from '../abi/errors.ts';
import { isMissing, trackerEnv } from '../hosts/native/alloc-tracker.ts';
import { cutOff, parseEvents, parseProbeLog, showEvent, type ScenarioEnd, type ScenarioRecord } from '../hosts/native/probes/events.ts';
import { buildProbe, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from '../hosts/native/probes/probe-packs.ts';
import { track } from '../kernel/lifeline.ts';
import { LineMarker } from '../kernel/markers.ts';
import { Sandbox, schedule, type Transport } from '../kernel/sandbox.ts';
import { packReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector } from './results.ts';
import { selectFrom } from './wasm-runner.ts';
import { NHOST_PROPERTY_IDS, type NHostPropertyId } from '../../properties/catalog.ts';
import { NHOST_PROPERTIES, type NHostContext, type NHostProperty } from '../../properties/nhost.ts';
import { blockedOutcome, type CheckOptions, type Outcome } from '../../properties/types.ts';
import type { HostReport } from './host-runner.ts';

export interface NativeHostOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  onResult?: (r: PropertyResult) => void;
  /** Scenarios side by side (default: the cores, at most 4). */
  jobs?: number;
}

/** What a scenario's process was, as the report keeps it (the adapter's output, truncated, never parsed). */
export interface ScenarioSummary {
  name: ScenarioName;
  command: string;
  end: ScenarioEnd;
  durationMs: number;
  stdout: string;
  stderr: string;
}

/** report@1 of a native host check: `"host": {"path", "kind": "native"}`. */
export type NativeHostReport = Omit<HostReport, 'host'> & { host: { path: string; kind: 'native'; abi: number; scenarios: ScenarioSummary[] } };

/** The check cannot start here (no C compiler, no allocation tracker): one line saying what to do. */
export class NativeHostSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeHostSetupError';
  }
}

const LOAD: NHostPropertyId = 'nhost.load.conforming';
const OUTPUT_KEPT = 4000;

/** The adapter process as a kernel transport: the one question starts it; the answer is its exit code. */
function adapterTransport(adapter: string, args: string[], env: NodeJS.ProcessEnv, output: { stdout: string; stderr: string }): Transport<'run', { code: number }> {
  let proc: ChildProcess | null = null;
  let answer: (m: { code: number }) => void = () => {};
  let death: (why: string) => void = () => {};
  const keep = (which: 'stdout' | 'stderr') => (d: Buffer) => (output[which] = (output[which] + d.toString('utf8')).slice(-OUTPUT_KEPT));
  return {
    send: () => {
      // Its own process group, so a kill takes any helper it started with it.
      proc = track(spawn(adapter, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
      (proc.stdout as Readable).on('data', keep('stdout'));
      (proc.stderr as Readable).on('data', keep('stderr'));
      proc.on('error', (e) => death(`it could not be started: ${e.message}`));
      proc.on('close', (code, signal) => (signal ? death(`killed with ${signal}`) : answer({ code: code ?? -1 })));
    },
    onMessage: (f) => (answer = f),
    onDeath: (f) => (death = f),
    kill: () => {
      if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        proc.kill('SIGKILL');
      }
    },
  };
}

/** Runs one scenario in a fresh adapter process; its record. */
export async function runScenario(adapter: string, name: ScenarioName, packs: { path: string; probe: string }[], timeoutMs: number, preload: Record<string, string>): Promise<ScenarioRecord> {
  const dir = mkdtempSync(join(tmpdir(), `packcheck-nhost-${name}-`));
  const events = join(dir, 'events.jsonl');
  const probeLog = join(dir, 'probe.jsonl');
  const args = packs.map((p) => p.path);
  const command = [adapter, ...args].join(' ');
  const output = { stdout: '', stderr: '' };
  const env = { ...process.env, ...preload, PACKCHECK_EVENTS: events, PACKCHECK_PROBE_LOG: probeLog };
  // The whole process is the one call: its start is under the watchdog too.
  const marker = new LineMarker(timeoutMs, 0, `scenario ${name}: ${command}`);
  const sandbox = new Sandbox(adapterTransport(adapter, args, env, output), marker);
  const t0 = performance.now();
  const v = await sandbox.ask('run');
  const durationMs = Math.round(performance.now() - t0);
  await sandbox.stop();
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const parsed = parseEvents(read(events), args);
  const probe = parseProbeLog(read(probeLog));
  rmSync(dir, { recursive: true, force: true });
  const end: ScenarioEnd =
    v.type === 'answer' ? { type: 'exited', code: v.answer.code } : v.type === 'timeout' ? { type: 'timeout', budgetMs: v.call.budgetMs } : v.why.startsWith('it could not be started') ? { type: 'spawn-failed', why: v.why } : { type: 'crash', why: v.why };
  return { scenario: name, packs, command, end, events: parsed.events, malformed: parsed.malformed, probe, stdout: output.stdout, stderr: output.stderr, durationMs };
}

/** The adapter's last words, for a message. */
function tail(r: ScenarioRecord): string {
  const last = (s: string) => s.trim().split('\n').slice(-3).join(' | ').slice(-300);
  const parts = [r.stderr.trim() && `stderr: ${last(r.stderr)}`, r.stdout.trim() && `stdout: ${last(r.stdout)}`].filter(Boolean);
  return parts.length ? `\n    adapter output (last lines): ${parts.join('; ')}` : '';
}

/** Why a scenario's record cannot be judged, as the harness result and the owner's failure say it. */
function cutOffWords(r: ScenarioRecord): string {
  const last = showEvent(r.events.at(-1));
  if (r.end.type === 'timeout') return `scenario ${r.scenario}: the adapter did not finish within ${r.end.budgetMs} ms (--timeout-ms) and was killed; last event: ${last}\n    ${r.command}${tail(r)}`;
  const why = r.end.type === 'crash' ? r.end.why : '';
  return `scenario ${r.scenario}: the adapter process was ${why} (a crash); last event: ${last}\n    ${r.command}${tail(r)}`;
}

/** Why a scenario's record cannot be trusted because of the adapter, not the host under test, or null. */
function adapterError(r: ScenarioRecord): string | null {
  if (r.end.type === 'spawn-failed') return `scenario ${r.scenario}: the adapter ${r.end.why}\n    ${r.command}`;
  if (r.malformed) return `scenario ${r.scenario}: the adapter wrote a malformed line ${r.malformed.line} to PACKCHECK_EVENTS: ${r.malformed.why}: ${r.malformed.text}\n    (one JSON object per line: see README, "Checking a native host")\n    ${r.command}${tail(r)}`;
  return null;
}

export async function checkNativeHost(adapter: string, opts: NativeHostOptions): Promise<NativeHostReport> {
  const t0 = performance.now();
  if (opts.expectAbi === null) throw new NativeHostSetupError('host --native needs the host\'s ABI version: pass --expect-abi N or --rustc-vv FILE');
  const hostAbi = opts.expectAbi;
  const preload = trackerEnv();
  if (isMissing(preload)) throw new NativeHostSetupError(`host --native needs the allocation tracker: ${preload.missing}`);
  let packsOf: Record<ScenarioName, { path: string; probe: string }[]>;
  try {
    packsOf = Object.fromEntries(SCENARIO_NAMES.map((s) => [s, SCENARIOS[s].map((p) => ({ path: buildProbe(p, hostAbi), probe: p.name }))])) as typeof packsOf;
  } catch (e) {
    throw new NativeHostSetupError(`host --native cannot build its probe packs: ${(e as Error).message}`);
  }
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const results = new ResultCollector(adapter, options, opts.onResult, ['--native'], 'host');
  const selected = selectFrom(NHOST_PROPERTY_IDS, opts.only, opts.skip) as NHostPropertyId[];
  const records: NHostContext['records'] = {};
  const run = async (s: ScenarioName) => {
    records[s] = await runScenario(adapter, s, packsOf[s], opts.timeoutMs, preload);
  };
  const byId = new Map<string, NHostProperty>(NHOST_PROPERTIES.map((p) => [p.id, p]));

  // nhost.load.conforming first, always: the rest relies on the host loading a conforming pack.
  await run('conforming');
  const load = judge(byId.get(LOAD)!, records, results, 'conforming');
  if (selected.includes(LOAD) || load.status !== 'passed') results.record(LOAD, load, records.conforming!.durationMs);
  const others = NHOST_PROPERTIES.filter((p) => p.id !== LOAD && selected.includes(p.id));
  if (load.status !== 'passed') {
    const blocker = load.status === 'failed' ? LOAD : load.blockedBy;
    const why = (load.message ?? '').split('\n')[0]!;
    for (const p of others) {
      const o: Outcome = blocker ? blockedOutcome(new StepBroken(blocker, 'load(the conforming probe)', why), 0) : { status: 'skipped', runs: 0, reached: 0, message: `not evaluated: ${LOAD} could not be judged (${why})` };
      results.record(p.id, o, 0);
    }
  } else {
    const needed = [...new Set(others.flatMap((p) => (p.readsAll ? SCENARIO_NAMES : p.scenarios)))].filter((s) => !records[s]);
    await schedule(needed, opts.jobs ?? Math.min(4, availableParallelism()), (s) => run(s));
    // A property's time is its scenarios' adapter processes (shared ones counted for each property that reads them).
    const spent = (p: NHostProperty) => (p.readsAll ? SCENARIO_NAMES : p.scenarios).reduce((ms, s) => ms + (records[s]?.durationMs ?? 0), 0);
    for (const p of others) results.record(p.id, judge(p, records, results), spent(p));
  }
  // A scenario run for a property that reads every record, cut off while its owner was left out by --only/--skip.
  for (const r of Object.values(records)) if (cutOff(r) && !recordedFor.has(r)) recordHarness(r, r.scenario, results);
  const ids = [LOAD, ...selected.filter((i) => i !== LOAD)];
  const { pack: _pack, ...rest } = packReport({ path: adapter, sha256: '', abi: null, abiVersion: hostAbi, templates: [], imports: [] }, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered(ids), t0);
  const scenarios = SCENARIO_NAMES.flatMap((s) => {
    const r = records[s];
    return r ? [{ name: s, command: r.command, end: r.end, durationMs: r.durationMs, stdout: r.stdout, stderr: r.stderr }] : [];
  });
  return { ...rest, host: { path: adapter, kind: 'native', abi: hostAbi, scenarios } };
}

const harnessIdOf = (r: ScenarioRecord) => (r.end.type === 'timeout' ? 'harness.timeout' : 'harness.crash');

/**
 * One property's outcome, its scenarios settled first. A cut-off scenario's
 * harness result is recorded once, after the property that owns it (or the
 * first one that needs it).
 */
function judge(p: NHostProperty, records: NHostContext['records'], results: ResultCollector, only?: ScenarioName): Outcome {
  const own = (only ? [only] : p.scenarios).map((s) => records[s]!);
  for (const r of own) {
    const broken = adapterError(r);
    if (broken) return { status: 'errored', runs: 0, message: broken };
  }
  const cut = own.filter(cutOff);
  for (const r of cut) if (!recordedFor.has(r)) recordHarness(r, p.id, results);
  const owned = cut.find((r) => p.owns.includes(r.scenario as ScenarioName));
  if (owned) return { status: 'failed', runs: 1, reached: 1, message: cutOffWords(owned), step: owned.command };
  // The evidence the cut-off scenarios did leave may still show a violation; without one, the property is blocked.
  const outcome = p.check({ records, id: p.id } as NHostContext & { id: string });
  if (cut.length === 0 || outcome.status === 'failed') return outcome;
  const first = cut[0]!;
  return blockedOutcome(new StepBroken(harnessIdOf(first), first.command, cutOffWords(first).split('\n')[0]!), 0);
}

/** Cut-off records whose harness result is in the report already. */
const recordedFor = new WeakSet<ScenarioRecord>();

function recordHarness(r: ScenarioRecord, during: string, results: ResultCollector): void {
  recordedFor.add(r);
  results.record(harnessIdOf(r), { status: 'failed', runs: 1, message: cutOffWords(r), step: r.command }, r.durationMs, during);
}
