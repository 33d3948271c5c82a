// The oracles of one fuzz input, run through the checked host: fuzzing
// finds inputs, the catalog judges them. Each tick's payload is classified
// by the Message schema first: a valid payload is judged as
// wasm.run.valid-payload judges it, an invalid one as the property of its
// kind (invalid-utf8, invalid-json, bad-shape), and one in a case ABI.md
// leaves open only by what holds for every payload (REPORT.md, fuzz@1: no
// trap, out slots written, error JSON on a non-zero status, a valid result
// on status 0, no write into host-held blocks).
import { RunStatus } from '../abi/abi.ts';
import { HarnessRefusal, PackTrap } from '../abi/errors.ts';
import type { Classification } from '../abi/message-schema.ts';
import type { Template } from '../abi/registration.ts';
import type { CallGuard } from '../kernel/call-guard.ts';
import type { FindingKind } from '../hosts/wasm/ledger.ts';
import { CheckedWasmHost, type HostOptions, type Tick } from '../hosts/wasm/wasm-host.ts';
import { CALL_OWNER } from '../../properties/attribution.ts';
import { describeAnswer, errorJsonProblem, slotUnwritten, tickCall } from '../../properties/support.ts';
import { payloadBytes, type FuzzInput } from './input.ts';
import { classified, errorJsonOf, outputsOf } from './verdict-cache.ts';

export interface Violated {
  /** The catalog id whose statement the input violated. */
  id: string;
  /** What was called, with what, what came back, what was expected. */
  message: string;
  /** Where: a trap's innermost wasm frame, else the kind of answer (deduplication key with the id). */
  site: string;
  /** The tick (0-based) it happened in; -1 before the first tick. */
  tick: number;
}

/** The catalog id that owns a payload class's rejections and traps. */
function ownerOf(c: Classification): string {
  if (c.verdict === 'valid') return 'wasm.run.valid-payload';
  if (c.verdict === 'open') return 'wasm.run.out-slots';
  const r = c.reason ?? '';
  if (r.includes('UTF-8')) return 'wasm.run.invalid-utf8';
  if (r.startsWith('payload is not JSON') || r === 'payload is empty') return 'wasm.run.invalid-json';
  return 'wasm.run.bad-shape';
}

const LEDGER_OWNER: Record<FindingKind, string> = {
  integrity: 'wasm.alloc.integrity',
  overlap: 'wasm.alloc.disjoint',
  'alloc-bounds': 'wasm.alloc.bounds',
  'result-bounds': 'wasm.run.out-slots',
};

/** `wasm-function[12]:0x1a3`: the innermost wasm frame of a trap, stable across runs of one module. */
export function trapSite(e: unknown): string {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const m = /wasm-function\[(\d+)\]:(0x[0-9a-f]+)/.exec(stack);
  const why = e instanceof Error ? e.message : String(e);
  return m ? `trap ${why} at wasm-function[${m[1]}]:${m[2]}` : `trap ${why}`;
}

/** Words of a message without its numbers (addresses, lengths): the same defect reads the same. */
const shapeOf = (s: string) => s.replace(/\d+/g, '#').slice(0, 160);

function thrown(e: unknown, cls: Classification | null, tick: number): Violated {
  if (e instanceof PackTrap) {
    const owner = e.owner ?? (e.callName === '__reflow_pack_actor_run' && cls ? ownerOf(cls) : (CALL_OWNER[e.callName ?? ''] ?? 'wasm.run.valid-payload'));
    const expected = cls && e.callName === '__reflow_pack_actor_run' ? `an answer, never a trap (payload ${cls.verdict}${cls.reason ? `: ${cls.reason}` : ''})` : 'no trap';
    return { id: owner, message: `${e.message}\n    expected: ${expected}`, site: trapSite(e.cause), tick };
  }
  if (e instanceof HarnessRefusal) return { id: e.owner ?? CALL_OWNER[e.callName ?? ''] ?? 'wasm.alloc.bounds', message: e.message, site: shapeOf(e.message.split('\n')[0]!), tick };
  throw e;
}

function violation(id: string, t: Tick, expected: string, tick: number, problem?: string): Violated {
  const got = problem ? `${describeAnswer(t)}: ${problem}` : describeAnswer(t);
  return { id, message: `${tickCall(t)}\n    returned: ${got}\n    expected: ${expected}`, site: shapeOf(expected), tick };
}

/** The verdict on one answered tick, or null when it holds. */
function judgeTick(t: Tick, cls: Classification, tick: number): Violated | null {
  if (t.allocFailed) {
    if (t.payload.length > 65536) return null; // memory may honestly run out for large payloads
    return violation('wasm.alloc.bounds', t, 'every block up to 64 KiB succeeds on a fresh instance', tick);
  }
  if (slotUnwritten(t.outPtr) || slotUnwritten(t.outLen)) return violation('wasm.run.out-slots', t, 'both out slots written (the harness pre-fills them with 0xFFFFFFFF)', tick);
  if (t.outPtr !== 0 && !t.resultInBounds) return violation('wasm.run.out-slots', t, `a result inside memory (${t.memBytesAfter} bytes)`, tick);
  if (t.resultOverlaps) return violation('wasm.run.output-owned', t, 'a result in a fresh block of its own, overlapping no host-held block', tick);
  if (t.status === RunStatus.UnknownInstance && cls.verdict !== 'valid') return violation('wasm.instance.model', t, `no "unknown instance" (-1): instance ${t.instance} is live`, tick);
  if (cls.verdict === 'valid' && t.status !== 0 && t.status !== RunStatus.ActorError) return violation('wasm.run.valid-payload', t, 'status 0, or -4 (an actor error), for a valid payload', tick);
  if (cls.verdict === 'invalid' && t.status === 0) return violation(ownerOf(cls), t, `a non-zero status with error JSON: ${cls.reason}`, tick);
  if (t.status === 0) {
    if (!t.result) return violation('wasm.run.output-json', t, 'status 0 with a result {"<port>": <Message>, …} inside memory', tick, 'no result');
    const out = outputsOf(t.result);
    if (!out.utf8) return violation('wasm.run.output-json', t, 'status 0 with a UTF-8 JSON result', tick, 'not valid UTF-8');
    if (out.problem) return violation('wasm.run.output-json', t, 'an object whose every value is a valid output Message', tick, out.problem);
    return null;
  }
  // A pack may answer a non-zero status with no result only where memory can honestly run out.
  if (t.outPtr === 0 && t.payload.length >= 1 << 20) return null;
  // errorJsonProblem's own words where there is no result to read; checkErrorJson's (remembered) where there is.
  const problem = t.outPtr !== 0 && t.result ? errorJsonOf(t.result) : errorJsonProblem(t);
  return problem ? violation('wasm.run.output-json', t, 'a non-zero status with error JSON {"error": "…"}', tick, problem) : null;
}

export interface JudgeSetup {
  module: WebAssembly.Module;
  templates: readonly Template[];
  guard: CallGuard;
  instrumentation?: HostOptions['instrumentation'];
}

/** A fresh checked host of the setup's module, registered. */
function freshHost(setup: JudgeSetup): CheckedWasmHost {
  const host = CheckedWasmHost.instantiate(setup.module, { guard: setup.guard, instrumentation: setup.instrumentation });
  host.register();
  return host;
}

/** The input's ticks on a new actor instance of `host`; the first violation, or null. `id` receives the instance (0 when none). */
function ticksOn(host: CheckedWasmHost, template: Template, input: FuzzInput, made: { id: number }): Violated | null {
  let instance: number;
  try {
    instance = host.create(template.factoryId);
  } catch (e) {
    return thrown(e, null, -1);
  }
  made.id = instance;
  if (instance === 0) return { id: 'wasm.instance.create', message: `__reflow_pack_create_actor(${template.factoryId})\n    returned: 0\n    expected: a non-zero id for the registered factory ${template.factoryId} (${template.name})`, site: 'create returned 0', tick: -1 };
  for (let i = 0; i < input.ticks.length; i++) {
    const { bytes, cls } = classified(input.ticks[i]!);
    const seen = host.ledger.findings.length;
    let t: Tick;
    try {
      t = host.run(instance, bytes);
    } catch (e) {
      return thrown(e, cls, i);
    }
    const noted = host.ledger.findings[seen];
    if (noted) return { id: LEDGER_OWNER[noted.kind], message: `${noted.call}\n    returned: ${noted.detail}\n    expected: ${noted.kind === 'integrity' ? 'no write into a block the host holds (the payload is read-only)' : 'blocks and results the host can use'}`, site: `${noted.kind} ${shapeOf(noted.detail.replace(/byte 0x\w+ became 0x\w+/, ''))}`, tick: i };
    const v = judgeTick(t, cls, i);
    if (v) return v;
  }
  return null;
}

/** Runs one input on a fresh instance; the first violation, or null. */
export function judgeInput(setup: JudgeSetup, input: FuzzInput): Violated | null {
  const template = setup.templates.find((t) => t.name === input.template);
  if (!template) return null; // not this pack's template: nothing was run, nothing to judge
  let host: CheckedWasmHost;
  try {
    host = freshHost(setup);
  } catch (e) {
    return thrown(e, null, -1);
  }
  return ticksOn(host, template, input, { id: 0 });
}

/**
 * Persistent mode (AFL's and libFuzzer's): one module instance runs many
 * inputs, each on an actor instance of its own that is destroyed after it, so
 * an input costs its pack calls and not an instantiation (with its
 * registration) as well. The module instance is replaced after a violation or
 * a thrown call (its state is suspect), and every `refreshEvery` inputs, to
 * bound what the pack's module-level state may drift. What persistent mode
 * finds is only a candidate: the campaign confirms it with judgeInput on a
 * fresh instance of the uninstrumented module, and drops it when that does
 * not reproduce it (so an artifact always fails on its own).
 */
export class PersistentJudge {
  private host: CheckedWasmHost | null = null;
  private uses = 0;
  private readonly made = { id: 0 };
  /** Module instances made so far (the benchmark reports it). */
  instantiations = 0;

  constructor(
    private readonly setup: JudgeSetup,
    private readonly refreshEvery: number,
  ) {}

  /** `fresh`: on a new module instance (a merge measures each input alone, so its coverage is the input's own). */
  run(input: FuzzInput, fresh = false): Violated | null {
    const template = this.setup.templates.find((t) => t.name === input.template);
    if (!template) return null;
    if (!this.host || fresh || this.uses >= this.refreshEvery) {
      this.host = null;
      this.uses = 0;
      try {
        this.host = freshHost(this.setup);
        this.instantiations++;
      } catch (e) {
        return thrown(e, null, -1);
      }
    }
    this.uses++;
    const host = this.host;
    this.made.id = 0;
    const v = ticksOn(host, template, input, this.made);
    if (v) {
      this.host = null;
      return v;
    }
    // A destroy that throws is not judged here (a fresh run never destroys): the instance is just replaced.
    try {
      if (this.made.id !== 0) host.destroy(this.made.id);
    } catch {
      this.host = null;
    }
    return null;
  }
}

/** What the pack answered to each tick of an input, as text (to compare the instrumented module with the pack as it is). */
export function answersOf(setup: JudgeSetup, input: FuzzInput): string {
  const template = setup.templates.find((t) => t.name === input.template);
  if (!template) return 'no such template';
  try {
    const host = CheckedWasmHost.instantiate(setup.module, { guard: setup.guard, instrumentation: setup.instrumentation });
    host.register();
    const id = host.create(template.factoryId);
    return input.ticks
      .map((p) => {
        const t = host.run(id, payloadBytes(p));
        return `${t.status} ${t.outLen} ${t.result ? Buffer.from(t.result).toString('latin1') : '-'}`;
      })
      .join('\n');
  } catch (e) {
    return `threw ${e instanceof Error ? e.message : String(e)}`;
  }
}
