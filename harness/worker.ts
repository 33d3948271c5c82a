// The worker side of a check: it holds the compiled pack and runs whole
// properties (pack, checked host and fast-check together), so the main
// thread only sees one message per property and can kill us if a call hangs.
import { parentPort, workerData } from 'node:worker_threads';
import { WASM_BATTERY } from '../properties/index.ts';
import type { WasmPropertyId } from '../properties/catalog.ts';
import { messageOf, setRunCounter, type CheckOptions, type Outcome, type PackSurvey, type PropertyContext } from '../properties/types.ts';
import { CallGuard } from './call-guard.ts';
import { decodeRegistration } from './registration.ts';
import { importNames } from '../mocks/stub-imports.ts';
import { CheckedWasmHost } from './wasm-host.ts';
import { inspectWasm, presentCalls, shapeProblems } from './wasm-shape.ts';

export interface WorkerInit {
  module: WebAssembly.Module;
  bytes: Uint8Array;
  guardBuffer: SharedArrayBuffer;
  options: CheckOptions;
  survey: PackSurvey | null;
}

export type ToWorker = { type: 'survey' } | { type: 'property'; id: WasmPropertyId };
export type FromWorker =
  | { type: 'survey'; survey: PackSurvey }
  | { type: 'result'; id: WasmPropertyId; outcome: Outcome; durationMs: number };

const init = workerData as WorkerInit;
const guard = new CallGuard(init.guardBuffer, init.options.timeoutMs);
setRunCounter(() => guard.countRun());
let survey = init.survey;

async function takeSurvey(): Promise<PackSurvey> {
  const shape = await inspectWasm(init.bytes);
  const s: PackSurvey = {
    shape,
    shapeProblems: shapeProblems(shape),
    calls: [...presentCalls(shape)],
    imports: importNames(init.module),
    abiVersion: null,
    registerStatus: null,
    surveyError: null,
    templates: [],
    metadataProblems: [],
  };
  let host: CheckedWasmHost;
  try {
    host = CheckedWasmHost.instantiate(init.module, { guard });
  } catch (e) {
    s.surveyError = messageOf(e);
    return s;
  }
  // A trap here is reported by the properties that make these calls.
  try {
    if (s.calls.includes('abiVersion')) s.abiVersion = host.abiVersion();
  } catch {}
  try {
    if (s.calls.includes('register')) s.registerStatus = host.register();
  } catch {}
  for (const reg of host.ledger.registrations) {
    const d = decodeRegistration(reg, init.options.profile);
    if ('template' in d) s.templates.push(d.template);
    else s.metadataProblems.push(d.problem);
  }
  return s;
}

function context(s: PackSurvey): PropertyContext {
  return {
    module: init.module,
    survey: s,
    options: init.options,
    guard,
    fresh(opts = {}) {
      const host = CheckedWasmHost.instantiate(init.module, { guard, watchBlocks: opts.watchBlocks });
      if (opts.register !== false && s.calls.includes('register')) host.register();
      return host;
    },
  };
}

function runProperty(id: WasmPropertyId): Outcome {
  const prop = WASM_BATTERY.get(id)!;
  const s = survey!;
  const missing = prop.needs.filter((n) => !s.calls.includes(n));
  if (missing.length) return { status: 'skipped', runs: 0, message: `needs the export(s) ${missing.join(', ')}, which the pack lacks (see wasm.shape.exports)` };
  if (s.surveyError && id !== 'wasm.shape.exports') return { status: 'failed', runs: 0, message: s.surveyError };
  const ctx = context(s);
  const reason = prop.skipReason?.(ctx) ?? null;
  if (reason) return { status: 'skipped', runs: 0, message: reason };
  try {
    return prop.check(ctx);
  } catch (e) {
    return { status: 'errored', runs: 0, message: messageOf(e) };
  }
}

parentPort!.on('message', async (msg: ToWorker) => {
  if (msg.type === 'survey') {
    survey = await takeSurvey();
    parentPort!.postMessage({ type: 'survey', survey } satisfies FromWorker);
    return;
  }
  const t0 = performance.now();
  const outcome = runProperty(msg.id);
  parentPort!.postMessage({ type: 'result', id: msg.id, outcome, durationMs: performance.now() - t0 } satisfies FromWorker);
});
