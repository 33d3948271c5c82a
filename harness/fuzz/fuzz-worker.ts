// The worker side of a campaign: it holds the pack twice (instrumented and
// as it is), runs batches of inputs through the checked host, and answers
// with each input's coverage, its CmpLog record when asked, and the
// violations that the uninstrumented module confirmed. The main thread's
// watchdog (harness/kernel) cuts off a call that hangs; the run counter in
// the guard says which input of the batch it was.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeRegistration, type Profile, type Template } from '../abi/registration.ts';
import { CallGuard } from '../kernel/call-guard.ts';
import { CheckedWasmHost } from '../hosts/wasm/wasm-host.ts';
import { CoverageReader, type CmpFinds, type SparseTrace } from './coverage.ts';
import { instrumentPack, type CmpSite } from './instrument.ts';
import { answersOf, judgeInput, PersistentJudge, type JudgeSetup, type Violated } from './judge.ts';
import type { Dictionary } from './dictionary.ts';
import type { FuzzInput } from './input.ts';

export interface InstrumentedPack {
  bytes: Uint8Array;
  cmplogBytes: Uint8Array | null;
  edges: number;
  cmpSites: CmpSite[];
  dictionary: Dictionary;
}

export interface FuzzWorkerInit {
  bytes: Uint8Array;
  guardBuffer: SharedArrayBuffer;
  timeoutMs: number;
  profile: Profile;
  /** Plain mode: only the uninstrumented module (replay, confirming a hang). */
  plain: boolean;
  cmplog: boolean;
  /** Given to a restarted worker, so binaryen runs once per campaign. */
  instrumented: InstrumentedPack | null;
}

/** Inputs one module instance runs before it is replaced (persistent mode: bounds state drift). */
export const REFRESH_EVERY = 1000;

/**
 * `traces`: 'novel' answers the traces of inputs that set a bucket bit this
 * worker had not seen (the campaign), 'all' every input's, each measured on a
 * fresh module instance (a merge: an input's coverage must not depend on what
 * ran before it).
 */
export type ToFuzzWorker = { type: 'start' } | { type: 'batch'; inputs: FuzzInput[]; cmplog: boolean[]; traces: 'novel' | 'all' } | { type: 'judge'; inputs: FuzzInput[] } | { type: 'answers'; inputs: FuzzInput[]; instrumented: boolean | 'cmplog' };

export interface BatchFinding {
  index: number;
  violated: Violated;
}

export type FromFuzzWorker =
  | { type: 'ready'; templates: Template[]; instrumented: InstrumentedPack | null; error?: string }
  | { type: 'batch'; traces: { index: number; trace: SparseTrace }[]; findings: BatchFinding[]; unconfirmed: number; cmp: { index: number; finds: CmpFinds }[]; instantiations: number }
  | { type: 'judged'; verdicts: (Violated | null)[] }
  | { type: 'answers'; answers: string[] };

const init = workerData as FuzzWorkerInit;
const guard = new CallGuard(init.guardBuffer, init.timeoutMs);
let plainSetup: JudgeSetup | null = null;
let fuzzSetup: JudgeSetup | null = null;
let reader: CoverageReader | null = null;
let persistent: PersistentJudge | null = null;
/** Runs the inputs asked for with CmpLog (null: CmpLog off, they run on `persistent`). */
let persistentCmplog: PersistentJudge | null = null;
let cmplogSetup: JudgeSetup | null = null;

/** The templates the pack registers, from a fresh plain instance. */
function survey(module: WebAssembly.Module): Template[] {
  const host = CheckedWasmHost.instantiate(module, { guard });
  host.register();
  const out: Template[] = [];
  for (const reg of host.ledger.registrations) {
    const d = decodeRegistration(reg, init.profile);
    if ('template' in d) out.push(d.template);
  }
  return out;
}

async function start(): Promise<FromFuzzWorker> {
  const module = new WebAssembly.Module(init.bytes as Uint8Array<ArrayBuffer>);
  let templates: Template[];
  try {
    templates = survey(module);
  } catch (e) {
    return { type: 'ready', templates: [], instrumented: null, error: `surveying the pack failed: ${(e as Error).message}` };
  }
  plainSetup = { module, templates, guard };
  if (init.plain) return { type: 'ready', templates, instrumented: null };
  const made = init.instrumented === null;
  const inst = init.instrumented ?? (await instrumentPack(init.bytes, { cmplog: init.cmplog }));
  reader = new CoverageReader(inst.edges);
  fuzzSetup = { module: new WebAssembly.Module(inst.bytes as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('edges') };
  persistent = new PersistentJudge(fuzzSetup, REFRESH_EVERY);
  if (inst.cmplogBytes) {
    cmplogSetup = { module: new WebAssembly.Module(inst.cmplogBytes as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('cmplog') };
    persistentCmplog = new PersistentJudge(cmplogSetup, REFRESH_EVERY);
  }
  return { type: 'ready', templates, instrumented: made ? inst : null };
}

function batch(inputs: FuzzInput[], cmplog: boolean[], traces: 'novel' | 'all'): FromFuzzWorker {
  const r = reader!;
  const made = () => persistent!.instantiations + (persistentCmplog?.instantiations ?? 0);
  const before = made();
  const novel: { index: number; trace: SparseTrace }[] = [];
  const findings: BatchFinding[] = [];
  const cmp: { index: number; finds: CmpFinds }[] = [];
  let unconfirmed = 0;
  for (let i = 0; i < inputs.length; i++) {
    guard.countRun();
    const withCmp = (cmplog[i] ?? false) && persistentCmplog !== null;
    r.begin(withCmp);
    const v = (withCmp ? persistentCmplog! : persistent!).run(inputs[i]!, traces === 'all');
    if (r.finish(traces === 'all') || traces === 'all') novel.push({ index: i, trace: r.sparse() });
    if (withCmp) cmp.push({ index: i, finds: r.cmpFinds() });
    if (!v) continue;
    // Confirmed on a fresh instance of the pack as it is, or not reported: neither
    // the instrumentation nor the state an instance kept from earlier inputs may
    // invent a defect (the artifact must fail on its own).
    const plain = judgeInput(plainSetup!, inputs[i]!);
    if (plain && plain.id === v.id) findings.push({ index: i, violated: plain });
    else unconfirmed++;
  }
  return { type: 'batch', traces: novel, findings, unconfirmed, cmp, instantiations: made() - before };
}

parentPort!.on('message', async (msg: ToFuzzWorker) => {
  if (msg.type === 'start') parentPort!.postMessage(await start());
  else if (msg.type === 'batch') {
    parentPort!.postMessage(batch(msg.inputs, msg.cmplog, msg.traces));
  } else if (msg.type === 'answers') {
    const setup = msg.instrumented === 'cmplog' ? cmplogSetup : msg.instrumented ? fuzzSetup : plainSetup;
    parentPort!.postMessage({ type: 'answers', answers: msg.inputs.map((i) => (setup ? answersOf(setup, i) : 'no such build in this worker')) } satisfies FromFuzzWorker);
  } else {
    const verdicts = msg.inputs.map((input) => {
      guard.countRun();
      return judgeInput(plainSetup!, input);
    });
    parentPort!.postMessage({ type: 'judged', verdicts } satisfies FromFuzzWorker);
  }
});
