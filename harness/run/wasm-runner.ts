// The main-thread side of a check: it compiles the pack, surveys it in a
// worker, hands properties to a small pool of workers, and watches every
// pack call through the shared guard. A call past its budget gets its worker
// terminated, the property failed, a `harness.timeout` result added, and the
// run goes on in a fresh worker.
import { newGuardBuffer, describeCall } from '../kernel/call-guard.ts';
import { SharedMarker } from '../kernel/markers.ts';
import { Sandbox, schedule, type InProgress } from '../kernel/sandbox.ts';
import { workerTransport } from '../kernel/transports.ts';
import { LoadError, type PackFile } from './pack-file.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector, SURVEY } from './results.ts';
import type { FromWorker, ToWorker, WorkerInit } from './wasm-worker.ts';
import { WASM_PROPERTY_IDS, type WasmPropertyId } from '../../properties/catalog.ts';
import { CALL_OWNER, ownsCall } from '../../properties/attribution.ts';
import { WASM_BATTERY } from '../../properties/index.ts';
import { MIB, WASM_EXPORTS } from '../abi/abi.ts';
import type { CheckOptions, Outcome, PackSurvey } from '../../properties/types.ts';
import type { Sample } from '../hosts/wasm/ledger.ts';
import type { PhaseTimes } from '../hosts/wasm/phase-clock.ts';

/** What `npm run bench -- --profile` gets (worker threads measure only under PACKCHECK_PROFILE=1). */
export type ProfileEvent =
  | { what: 'compile'; ms: number }
  | { what: 'worker-start'; ms: number }
  | { what: 'survey'; phases: PhaseTimes }
  | { what: 'property'; id: string; phases: PhaseTimes; roundTripMs: number };

export interface RunnerOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  /** Workers running properties side by side. */
  jobs: number;
  /** Called as each result arrives (progress output). */
  onResult?: (r: PropertyResult) => void;
  /** Called while properties run: the ids in progress and fast-check runs done so far. */
  onProgress?: (running: string[], runsDone: number) => void;
  /** Profiling: called with each phase's times. */
  onProfile?: (e: ProfileEvent) => void;
}

const WORKER_URL = new URL('./wasm-worker-entry.mjs', import.meta.url);

/** The ids that `--only` / `--skip` (ids, `prefix`, or `prefix*`) leave of a battery. */
export function selectFrom<T extends string>(ids: readonly T[], only?: string[], skip?: string[]): T[] {
  const matches = (id: string, pats: string[]) => pats.some((p) => id === p || (p.endsWith('*') && id.startsWith(p.slice(0, -1))) || id.startsWith(`${p}.`));
  return ids.filter((id) => (!only?.length || matches(id, only)) && !(skip?.length && matches(id, skip)));
}

export function selectIds(only?: string[], skip?: string[]): WasmPropertyId[] {
  return selectFrom(WASM_PROPERTY_IDS, only, skip);
}

/**
 * The properties that take longest on typical packs (the pack's own memory
 * growth to 2 GiB, 1-16 MiB payloads, long command sequences, the leak
 * measurements) go first, so no lane is left with one of them at the end
 * while the others idle. Reports list results in catalog order whatever the
 * order they ran in.
 */
const LONGEST = ['wasm.alloc.huge', 'wasm.run.large-payload', 'wasm.instance.model', 'wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.alloc.no-leak', 'wasm.instance.no-leak'];
function longestFirst(ids: WasmPropertyId[]): WasmPropertyId[] {
  const rank = (id: string) => (LONGEST.includes(id) ? LONGEST.indexOf(id) : LONGEST.length);
  return [...ids].sort((a, b) => rank(a) - rank(b));
}

type PackSandbox = Sandbox<ToWorker, FromWorker> & { marker: SharedMarker };

/**
 * Idle workers kept for the next pack, when this process checks pack after
 * pack (a warm corpus child: keepWorkersForNextPack). A worker is kept only
 * when it ended its last question alive and idle (no timeout, no crash); it
 * holds nothing of that pack: every question brings the pack it is about.
 */
const idleWorkers: PackSandbox[] = [];
let keepWorkers = false;

/** From now on, workers that end a check alive and idle serve the next check of this process. */
export function keepWorkersForNextPack(): void {
  keepWorkers = true;
}

/** Ends the kept workers and keeps none from now on. */
export async function endKeptWorkers(): Promise<void> {
  keepWorkers = false;
  await Promise.all(idleWorkers.splice(0).map((w) => w.stop()));
}

/** A worker thread for the pack's questions, on the kernel (./kernel/sandbox.ts): a kept one, or a new one. */
function packSandbox(): PackSandbox {
  for (let w = idleWorkers.pop(); w; w = idleWorkers.pop()) if (!w.dead) return w;
  const guardBuffer = newGuardBuffer();
  // A large young generation: properties churn through short-lived payloads
  // and instances, and scavenges were half the battery's time with the default.
  const transport = workerTransport<ToWorker, FromWorker>(WORKER_URL, { workerData: { guardBuffer } satisfies WorkerInit, resourceLimits: { maxYoungGenerationSizeMb: 192 } });
  return new Sandbox(transport, new SharedMarker(guardBuffer)) as PackSandbox;
}

/** A worker done with this check: kept for the next pack, or ended. */
async function release(w: PackSandbox): Promise<void> {
  if (w.dead) return;
  w.onPoll = undefined;
  if (keepWorkers) idleWorkers.push(w);
  else await w.stop();
}

function timeoutMessage(c: InProgress, timeoutMs: number): string {
  const args = c.args ?? [];
  const payloadMiB = c.call === '__reflow_pack_actor_run' ? (args[2] ?? 0) / MIB : 0;
  const limit = payloadMiB > 0 ? `${timeoutMs} ms + 1 s per MiB of its ${(payloadMiB).toFixed(2)} MiB payload = ${c.budgetMs} ms` : `${c.budgetMs} ms`;
  return `${describeCall(c.call, args)} did not return within ${limit} (--timeout-ms); the worker running it was stopped and the check went on with the next property`;
}

/** Checks one wasm pack; throws LoadError when the bytes are not a loadable module. */
export async function checkWasmPack(file: PackFile, opts: RunnerOptions): Promise<PackReport> {
  const t0 = performance.now();
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(file.bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new LoadError(`${file.path} starts like WebAssembly but does not compile (${(e as Error).message}); rebuild the pack`);
  }
  opts.onProfile?.({ what: 'compile', ms: performance.now() - t0 });
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const packInit = { module, options };
  const results = new ResultCollector(file.path, options, opts.onResult);
  let timeline: Sample[] | undefined;
  /** Verdicts the survey already gave: the owner of a call that hung there. */
  const hungInSurvey = new Map<string, Outcome>();
  const ranExtra: WasmPropertyId[] = [];
  const record = (id: string, o: Outcome, durationMs: number, during?: string) => {
    // The instance lifecycle's measurement is the picture of the run; the allocator's stands in.
    if (o.timeline?.length && (id === 'wasm.instance.no-leak' || !timeline)) timeline = o.timeline;
    return results.record(id, o, durationMs, during);
  };

  // The survey: instantiation, ABI version, one registration. Any of them can
  // hang: the call is cut off, its owner fails with harness.timeout, and the
  // survey is taken again without that call, so what does not depend on it
  // is still evaluated (PROPERTIES.md, Attribution).
  let survey: PackSurvey | null = null;
  const skip: string[] = [];
  let surveyor = packSandbox();
  const ids = longestFirst(selectIds(opts.only, opts.skip));
  // The other lanes' workers load their modules while the survey runs; each property message brings them the survey.
  const early = Array.from({ length: Math.max(0, Math.min(opts.jobs, ids.length) - 1) }, () => packSandbox());
  for (;;) {
    const s0 = performance.now();
    const answer = await surveyor.ask({ type: 'survey', skip: [...skip], pack: packInit, bytes: file.bytes });
    const took = performance.now() - s0;
    if (answer.type === 'answer' && answer.answer.type === 'survey') {
      survey = answer.answer.survey;
      const { phases } = answer.answer;
      if (phases) {
        opts.onProfile?.({ what: 'survey', phases });
        opts.onProfile?.({ what: 'worker-start', ms: took - phases.totalMs });
      }
      break;
    }
    if (answer.type === 'timeout') {
      const msg = timeoutMessage(answer.call, opts.timeoutMs);
      const owner = CALL_OWNER[answer.call.call] ?? 'wasm.load.instantiate';
      record('harness.timeout', { status: 'failed', runs: 1, step: answer.call.call, message: `while surveying the pack: ${msg}` }, took, SURVEY);
      hungInSurvey.set(owner, { status: 'failed', runs: 1, reached: 1, step: answer.call.call, message: `the pack hung: ${msg}` });
      skip.push(answer.call.call);
    } else {
      const why = answer.type === 'crash' ? `the pack crashed its worker while being surveyed: ${answer.why}` : 'the worker answered out of turn';
      record('harness.crash', { status: 'failed', runs: 1, message: `while surveying the pack (instantiate, ABI version, registration): ${why}` }, took, SURVEY);
      hungInSurvey.set('wasm.load.instantiate', { status: 'failed', runs: 1, reached: 1, message: why });
      skip.push('instantiate');
    }
    if (skip.includes('instantiate')) {
      // Nothing can be evaluated without an instance; a fresh worker answers the survey at once.
      await surveyor.stop().catch(() => {});
      surveyor = packSandbox();
    } else surveyor = packSandbox();
  }

  const pool: PackSandbox[] = [surveyor.dead ? packSandbox() : surveyor, ...early];
  // A kept worker's run counter goes on from its earlier packs: progress counts from where it stood.
  const runsBefore = new Map<PackSandbox, number>();
  const runsOf = (w: PackSandbox) => {
    if (!runsBefore.has(w)) runsBefore.set(w, w.marker.runs());
    return w.marker.runs() - runsBefore.get(w)!;
  };
  pool.forEach(runsOf);
  const running = new Map<number, string>();
  let runsOfDeadWorkers = 0;
  const progress = () => opts.onProgress?.([...running.values()], runsOfDeadWorkers + pool.reduce((n, w) => n + (w && !w.dead ? runsOf(w) : 0), 0));
  const runOne = async (id: WasmPropertyId, index: number) => {
    {
      // A property whose own call hung in the survey has its verdict already.
      const known = hungInSurvey.get(id);
      if (known) {
        record(id, known, 0);
        return;
      }
      let w = pool[index];
      if (!w || w.dead) {
        if (w) runsOfDeadWorkers += runsOf(w);
        w = pool[index] = packSandbox();
        runsOf(w);
      }
      w.onPoll = progress;
      running.set(index, id);
      const started = performance.now();
      const m = await w.ask({ type: 'property', id, survey: survey!, pack: packInit });
      const took = performance.now() - started;
      if (m.type === 'answer' && m.answer.type === 'result') {
        record(id, m.answer.outcome, m.answer.durationMs);
        if (m.answer.phases) opts.onProfile?.({ what: 'property', id, phases: m.answer.phases, roundTripMs: took });
      }
      else if (m.type === 'timeout') {
        const msg = timeoutMessage(m.call, opts.timeoutMs);
        record('harness.timeout', { status: 'failed', runs: 1, step: m.call.call, message: `during ${id}: ${msg}` }, took, id);
        // The property fails too only when the call cut off was its own checked step.
        const own = ownsCall(id, WASM_BATTERY.get(id)!.checks.map((c) => WASM_EXPORTS[c]), m.call.call);
        record(id, own ? { status: 'failed', runs: 0, step: m.call.call, message: `the pack hung: ${msg}` } : { status: 'skipped', runs: 0, reached: 0, blockedBy: 'harness.timeout', step: m.call.call, message: `not evaluated: a call it makes for its own purposes hung (see harness.timeout): ${msg}` }, took);
      } else if (m.type === 'crash') {
        record('harness.crash', { status: 'failed', runs: 1, message: `during ${id}: ${m.why}` }, took, id);
        record(id, { status: 'skipped', runs: 0, reached: 0, blockedBy: 'harness.crash', message: `not evaluated: the worker running it died (see harness.crash): ${m.why}` }, took);
      }
      running.delete(index);
    }
  };
  await schedule(ids, opts.jobs, runOne);
  // A blocking id left out by --only/--skip is evaluated anyway: blockedBy always names a result of this report.
  for (let more = results.missingBlockers() as WasmPropertyId[]; more.length; more = results.missingBlockers() as WasmPropertyId[]) {
    const known = more.filter((id) => WASM_PROPERTY_IDS.includes(id));
    if (!known.length) break;
    ranExtra.push(...known);
    await schedule(known, 1, runOne);
  }
  await Promise.all([...new Set([...pool, ...early])].map(release));
  for (const id of ids) {
    const on = WASM_BATTERY.get(id)!.reliesOn;
    if (on) results.relyOn(id, on);
  }

  const pack = { path: file.path, sha256: file.sha256, abi: 'wasm' as const, abiVersion: survey?.abiVersion ?? null, templates: survey?.templates ?? [], imports: survey?.imports ?? [] };
  const report = packReport(pack, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered(WASM_PROPERTY_IDS.filter((id) => ids.includes(id) || ranExtra.includes(id))), t0);
  return timeline ? { ...report, timeline } : report;
}
