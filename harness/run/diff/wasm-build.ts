// One wasm build of a diff, held in a worker thread on the execution kernel
// (harness/kernel/sandbox.ts) and watched through the shared call guard. A
// call that hangs gets the worker terminated and is this input's answer (a
// trap-like "did not return"); a worker that dies answers the same way; the
// next input gets a fresh worker.
import { describeCall, newGuardBuffer } from '../../kernel/call-guard.ts';
import { SharedMarker } from '../../kernel/markers.ts';
import { Sandbox, type Verdict } from '../../kernel/sandbox.ts';
import { workerTransport } from '../../kernel/transports.ts';
import type { Profile } from '../../abi/registration.ts';
import type { FromObserver, ObserverInit, ToObserver } from './wasm-observer.ts';
import { isTrap, type SequenceSeen, type TickSeen, type WasmBuildSurvey } from './observation.ts';

const ENTRY = new URL('./wasm-observer-entry.mjs', import.meta.url);

export class WasmBuild {
  private sandbox: Sandbox<ToObserver, FromObserver> | null = null;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly opts: { timeoutMs: number; profile: Profile },
  ) {}

  private live(): Sandbox<ToObserver, FromObserver> {
    if (this.sandbox && !this.sandbox.dead) return this.sandbox;
    const guardBuffer = newGuardBuffer();
    const init: ObserverInit = { module: this.module, guardBuffer, timeoutMs: this.opts.timeoutMs, profile: this.opts.profile };
    this.sandbox = new Sandbox(workerTransport<ToObserver, FromObserver>(ENTRY, { workerData: init }), new SharedMarker(guardBuffer));
    return this.sandbox;
  }

  async survey(): Promise<WasmBuildSurvey> {
    const v = await this.live().ask({ type: 'survey' });
    if (v.type === 'answer' && v.answer.type === 'survey') return v.answer.survey;
    return { abiVersion: null, registerStatus: null, templates: [], problems: [`the survey (instantiate, reflow_pack_abi_version, __reflow_pack_register) ${cutOff(v)}`] };
  }

  /** The ticks of one sequence, up to and including the first that did not return (a hang or a dead worker included). */
  async sequence(template: string, payloads: Uint8Array[]): Promise<SequenceSeen> {
    const b = await this.live().ask({ type: 'begin', template });
    if (b.type !== 'answer' || b.answer.type !== 'begun') return { created: false, ticks: [cutTick(b)] };
    const seen = b.answer.seen;
    if (!seen.created) return seen;
    for (const payload of payloads) {
      const v = await this.live().ask({ type: 'tick', payload });
      const t = v.type === 'answer' && v.answer.type === 'tick' ? v.answer.seen : cutTick(v);
      seen.ticks.push(t);
      if (isTrap(t)) break;
    }
    return seen;
  }

  async stop(): Promise<void> {
    await this.sandbox?.stop();
  }
}

function cutOff(v: Verdict<FromObserver>): string {
  if (v.type === 'timeout') return `hung: ${describeCall(v.call.call, v.call.args ?? [])} did not return within ${v.call.budgetMs} ms (--timeout-ms); its worker was stopped`;
  if (v.type === 'crash') return `crashed its worker: ${v.why}`;
  return `got an answer out of turn (${v.answer.type})`;
}

function cutTick(v: Verdict<FromObserver>): TickSeen {
  const text = cutOff(v);
  return { trap: text, key: v.type === 'timeout' ? `timeout:${v.call.call}` : v.type === 'crash' ? 'crash' : 'out-of-turn', detail: text };
}
