// The worker side of a check: it holds the compiled pack and runs whole
// properties (pack, checked host and fast-check together), so the main
// thread only sees one message per property and can kill us if a call hangs.
import { parentPort, workerData } from 'node:worker_threads';
import { WASM_BATTERY } from '../../properties/index.ts';
import type { WasmPropertyId } from '../../properties/catalog.ts';
import { blockedOutcome, messageOf, withId, setRunCounter, type CheckOptions, type Outcome, type PackSurvey, type PropertyContext } from '../../properties/types.ts';
import { WASM_EXPORTS } from '../abi/abi.ts';
import { StepBroken } from '../abi/errors.ts';
import { CallGuard } from '../kernel/call-guard.ts';
import { decodeRegistration } from '../abi/registration.ts';
import { importNames } from '../hosts/wasm/stub-imports.ts';
import { CheckedWasmHost } from '../hosts/wasm/wasm-host.ts';
import { PROFILING, takePhases, type PhaseTimes } from '../hosts/wasm/phase-clock.ts';
import { inspectWasm, presentCalls, shapeProblems, type WasmShape } from '../hosts/wasm/wasm-shape.ts';

export interface WorkerInit {
  guardBuffer: SharedArrayBuffer;
}

/** The pack a question is about. Every question names it: a worker may serve one pack after another (a warm corpus child). */
export interface PackInit {
  module: WebAssembly.Module;
  options: CheckOptions;
}

/** `skip`: calls the survey must not make again (one hung in an earlier survey). */
export type ToWorker = { type: 'survey'; skip: string[]; pack: PackInit; bytes: Uint8Array } | { type: 'property'; id: WasmPropertyId; survey: PackSurvey; pack: PackInit };
export type FromWorker =
  | { type: 'survey'; survey: PackSurvey; phases?: PhaseTimes }
  | { type: 'result'; id: WasmPropertyId; outcome: Outcome; durationMs: number; phases?: PhaseTimes };

const init = workerData as WorkerInit;
let pack: PackInit;
let guard: CallGuard;
setRunCounter(() => guard.countRun());
let survey: PackSurvey | null = null;

/** The pack of this question: the guard takes its timeout; nothing else is kept from the one before. */
function take(next: PackInit): void {
  if (!guard || guard.baseBudgetMs !== next.options.timeoutMs) guard = new CallGuard(init.guardBuffer, next.options.timeoutMs);
  pack = next;
}

async function takeSurvey(skip: string[], bytes: Uint8Array): Promise<PackSurvey> {
  // A module that compiled but whose sections we cannot read fails wasm.shape.exports with the reason.
  let shape: WasmShape = { exports: [], imports: [], memory: null };
  let problems: string[];
  try {
    shape = await inspectWasm(bytes);
    problems = shapeProblems(shape);
  } catch (e) {
    problems = [`the module's sections could not be read: ${messageOf(e)}`];
  }
  const s: PackSurvey = {
    shape,
    shapeProblems: problems,
    calls: [...presentCalls(shape)],
    imports: importNames(pack.module),
    abiVersion: null,
    registerStatus: null,
    surveyError: null,
    templates: [],
    metadataProblems: [],
    skipped: skip,
  };
  if (skip.includes('instantiate')) return { ...s, surveyError: 'instantiation did not return (see harness.timeout)' };
  let host: CheckedWasmHost;
  try {
    host = CheckedWasmHost.instantiate(pack.module, { guard });
  } catch (e) {
    s.surveyError = messageOf(e);
    return s;
  }
  // A trap here is reported by the properties that make these calls.
  try {
    if (s.calls.includes('abiVersion') && !skip.includes(WASM_EXPORTS.abiVersion)) s.abiVersion = host.abiVersion();
  } catch {}
  try {
    if (s.calls.includes('register') && !skip.includes(WASM_EXPORTS.register)) s.registerStatus = host.register();
  } catch {}
  for (const reg of host.ledger.registrations) {
    const d = decodeRegistration(reg, pack.options.profile);
    if ('template' in d) s.templates.push(d.template);
    else s.metadataProblems.push(d.problem);
  }
  return s;
}

function context(s: PackSurvey, checks: readonly string[]): PropertyContext {
  // A register that hung in the survey is not called again: properties that need no template still run.
  const registers = s.calls.includes('register') && !s.skipped.includes(WASM_EXPORTS.register);
  return {
    module: pack.module,
    survey: s,
    options: pack.options,
    checks,
    guard,
    fresh(opts = {}) {
      const host = CheckedWasmHost.instantiate(pack.module, { guard, watchBlocks: opts.watchBlocks });
      if (opts.register !== false && registers) host.register();
      return host;
    },
  };
}

function runProperty(id: WasmPropertyId): Outcome {
  const prop = WASM_BATTERY.get(id)!;
  const s = survey!;
  // Steps every property relies on (PROPERTIES.md, Attribution): the exports it calls, then instantiation.
  const missing = prop.needs.filter((n) => !s.calls.includes(n));
  if (missing.length) return blockedOutcome(new StepBroken('wasm.shape.exports', 'looking up its exports', `the pack lacks ${missing.map((n) => WASM_EXPORTS[n]).join(', ')}`), 0);
  if (s.surveyError && id !== 'wasm.shape.exports' && id !== 'wasm.load.instantiate') return blockedOutcome(new StepBroken('wasm.load.instantiate', 'instantiating the module', s.surveyError), 0);
  const ctx = context(s, prop.checks.map((c) => WASM_EXPORTS[c]));
  const reason = prop.skipReason?.(ctx) ?? null;
  if (reason instanceof StepBroken) return blockedOutcome(reason, 0);
  if (reason) return { status: 'skipped', runs: 0, message: reason };
  try {
    return prop.check(withId(ctx, id));
  } catch (e) {
    return { status: 'errored', runs: 0, message: messageOf(e) };
  }
}

parentPort!.on('message', async (msg: ToWorker) => {
  const t0 = performance.now();
  take(msg.pack);
  if (msg.type === 'survey') {
    survey = await takeSurvey(msg.skip, msg.bytes);
    const profile = PROFILING ? { phases: { ...takePhases(), totalMs: performance.now() - t0 } } : {};
    parentPort!.postMessage({ type: 'survey', survey, ...profile } satisfies FromWorker);
    return;
  }
  survey = msg.survey; // a worker started before the survey was taken learns it here
  const outcome = runProperty(msg.id);
  const durationMs = performance.now() - t0;
  let phases: PhaseTimes | undefined;
  if (PROFILING) {
    phases = { ...takePhases(), totalMs: durationMs };
    if (phases.fcRuns === 0) phases.bodyMs = durationMs; // a single check: all of it is the body
  }
  parentPort!.postMessage({ type: 'result', id: msg.id, outcome, durationMs, ...(phases ? { phases } : {}) } satisfies FromWorker);
});
