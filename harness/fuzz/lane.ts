// One fuzz worker on the execution kernel (harness/kernel): a worker thread
// with the shared-memory call marker, so a hanging input is cut off by the
// watchdog, named (the guard's run counter says which input of the batch it
// was) and the campaign goes on in a fresh worker.
import { newGuardBuffer } from '../kernel/call-guard.ts';
import { SharedMarker } from '../kernel/markers.ts';
import { Sandbox, type InProgress } from '../kernel/sandbox.ts';
import { workerTransport } from '../kernel/transports.ts';
import type { Profile, Template } from '../abi/registration.ts';
import type { FromFuzzWorker, FuzzWorkerInit, InstrumentedPack, ToFuzzWorker } from './fuzz-worker.ts';
import type { FuzzInput } from './input.ts';
import type { Violated } from './judge.ts';

const ENTRY = new URL('./fuzz-worker-entry.mjs', import.meta.url);

export interface LaneOptions {
  bytes: Uint8Array;
  timeoutMs: number;
  profile: Profile;
  plain: boolean;
  cmplog: boolean;
  instrumented: InstrumentedPack | null;
}

/** A call cut off (or a worker that died) while running input `index` of what was sent. */
export interface CutOff {
  index: number;
  kind: 'timeout' | 'crash';
  call: InProgress | null;
  why: string;
}

export class FuzzLane {
  private runsAtAsk = 0;
  private constructor(
    private readonly sandbox: Sandbox<ToFuzzWorker, FromFuzzWorker> & { marker: SharedMarker },
    readonly templates: Template[],
    readonly instrumented: InstrumentedPack | null,
  ) {}

  /** Starts a worker (instrumenting the pack unless given the result); throws with the reason when the pack cannot be surveyed. */
  static async open(opts: LaneOptions): Promise<FuzzLane> {
    const guardBuffer = newGuardBuffer();
    const init: FuzzWorkerInit = { bytes: opts.bytes, guardBuffer, timeoutMs: opts.timeoutMs, profile: opts.profile, plain: opts.plain, cmplog: opts.cmplog, instrumented: opts.instrumented };
    const transport = workerTransport<ToFuzzWorker, FromFuzzWorker>(ENTRY, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    const sandbox = new Sandbox(transport, new SharedMarker(guardBuffer)) as Sandbox<ToFuzzWorker, FromFuzzWorker> & { marker: SharedMarker };
    const v = await sandbox.ask({ type: 'start' });
    if (v.type !== 'answer' || v.answer.type !== 'ready') {
      await sandbox.stop().catch(() => {});
      throw new Error(v.type === 'timeout' ? `the pack hung while being surveyed (${v.call.call})` : v.type === 'crash' ? `the fuzz worker died: ${v.why}` : 'the fuzz worker answered out of turn');
    }
    if (v.answer.error) {
      await sandbox.stop().catch(() => {});
      throw new Error(v.answer.error);
    }
    return new FuzzLane(sandbox, v.answer.templates, v.answer.instrumented ?? opts.instrumented);
  }

  get dead(): boolean {
    return this.sandbox.dead;
  }

  private async ask(q: ToFuzzWorker): Promise<FromFuzzWorker | CutOff> {
    this.runsAtAsk = this.sandbox.marker.runs();
    const v = await this.sandbox.ask(q);
    if (v.type === 'answer') return v.answer;
    // The worker counts an input as it starts it: the last one counted is the one cut off.
    const index = Math.max(0, this.sandbox.marker.runs() - this.runsAtAsk - 1);
    if (v.type === 'timeout') return { index, kind: 'timeout', call: v.call, why: 'timeout' };
    await this.sandbox.stop().catch(() => {});
    return { index, kind: 'crash', call: v.call, why: v.why };
  }

  /** Runs inputs on the instrumented module; `traces` as ToFuzzWorker says. */
  async runBatch(inputs: FuzzInput[], cmplog: boolean[], traces: 'novel' | 'all' = 'novel'): Promise<Extract<FromFuzzWorker, { type: 'batch' }> | CutOff> {
    const a = await this.ask({ type: 'batch', inputs, cmplog, traces });
    return 'kind' in a || a.type === 'batch' ? a : { index: 0, kind: 'crash', call: null, why: 'the fuzz worker answered out of turn' };
  }

  /** Judges inputs on the uninstrumented module. */
  async judge(inputs: FuzzInput[]): Promise<(Violated | null)[] | CutOff> {
    const a = await this.ask({ type: 'judge', inputs });
    return 'kind' in a ? a : a.type === 'judged' ? a.verdicts : { index: 0, kind: 'crash', call: null, why: 'the fuzz worker answered out of turn' };
  }

  /** Each input's answers as text, on the pack as it is, the edge build (true) or the CmpLog build (the instrumentation test). */
  async answers(inputs: FuzzInput[], instrumented: boolean | 'cmplog' = false): Promise<string[] | CutOff> {
    const a = await this.ask({ type: 'answers', inputs, instrumented });
    return 'kind' in a ? a : a.type === 'answers' ? a.answers : { index: 0, kind: 'crash', call: null, why: 'the fuzz worker answered out of turn' };
  }

  async close(): Promise<void> {
    if (!this.sandbox.dead) await this.sandbox.stop().catch(() => {});
  }
}
