// host.*: a JS wasm-pack host, through its adapter, against probe packs.
// Each run makes a fresh host from the adapter's factory, hands it a probe
// pack, drives it through load/create/run/destroy/unload, and judges what
// the recorder saw the host do to the pack. Deadlines are PROPERTIES.md's.
import fc from 'fast-check';
import { Violation } from '../harness/errors.ts';
import type { HostAdapterFactory, HostUnderTest, RunResult } from '../harness/host-kit/adapter.ts';
import { buildProbe, echoOutputs, type ProbeScenario } from '../harness/host-kit/probe-pack.ts';
import { HostRecorder, type RecordedInstance } from '../harness/host-kit/recorder.ts';
import { showBytes } from '../harness/readable.ts';
import type { HostPropertyId } from './catalog.ts';
import { validMessage } from './arbitraries/message.ts';
import { utf8EdgeString } from './arbitraries/utf8.ts';
import type { Json } from './arbitraries/json-text.ts';
import { RawJson } from './arbitraries/json-text.ts';
import { runFcAsync, type CheckOptions, type Outcome } from './types.ts';

export type AdapterCall = 'factory' | 'load' | 'create' | 'run' | 'destroy' | 'unload';

export interface HostContext {
  factory: HostAdapterFactory;
  options: CheckOptions;
  /** Marks an adapter call for the watchdog (the adapter may never return). */
  call<T>(name: AdapterCall, detail: string, f: () => Promise<T>): Promise<T>;
}

export interface HostProperty {
  id: HostPropertyId;
  check(ctx: HostContext): Promise<Outcome>;
}

const TEMPLATE = 'probe.echo';
const SIMPLE_INPUT = { in: { type: 'Integer', data: 7 } };

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };
async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** One host session against one probe pack, with the recorder installed. */
class Session {
  readonly rec = new HostRecorder();
  host!: HostUnderTest;
  readonly actors: unknown[] = [];
  constructor(
    readonly ctx: HostContext,
    readonly scenario: ProbeScenario,
    readonly module: WebAssembly.Module,
  ) {}

  get inst(): RecordedInstance | undefined {
    return this.rec.instances[0];
  }

  /** The scenario in words, for messages. */
  get what(): string {
    const s = this.scenario;
    const bits = [`probe pack registering ${JSON.stringify(s.templates)}`];
    if (s.result && s.result !== 'echo') bits.push(`run answering '${s.result}'`);
    if (s.allocFailsAt) bits.push(`alloc call #${s.allocFailsAt} returning 0`);
    if (s.createReturnsZero) bits.push('create_actor returning 0');
    if (s.growInAlloc) bits.push('memory growing in every alloc');
    if (s.growInRun) bits.push('memory growing in every run');
    return bits.join(', ');
  }

  async load(): Promise<Settled<{ templates: { name: string }[] }>> {
    this.host = await this.ctx.call('factory', 'the adapter factory', () => this.ctx.factory());
    return settle(this.ctx.call('load', `load(probe module: ${this.what})`, () => this.host.load(this.module)));
  }

  async create(name = TEMPLATE): Promise<Settled<unknown>> {
    const r = await settle(this.ctx.call('create', `create(${JSON.stringify(name)})`, () => this.host.create(name)));
    if (r.ok) this.actors.push(r.value);
    return r;
  }

  private hostRuns = 0;

  async run(actor: unknown, input: Record<string, unknown> = SIMPLE_INPUT): Promise<Settled<RunResult>> {
    const inst = this.inst;
    const k = this.hostRuns++;
    if (inst) inst.currentRun = k;
    const r = await settle(this.ctx.call('run', `run(actor, ${JSON.stringify(input).slice(0, 200)})`, () => this.host.run(actor, input)));
    if (inst) {
      inst.currentRun = null;
      // The deadline of a block allocated inside this run, and of this run's results: now.
      for (const a of inst.allocs) if (a.run === k) a.freesByDeadline = a.frees.length;
      for (const x of inst.runs) if (!x.resolved) {
        x.resolved = true;
        x.freesByDeadline = x.resultFrees.length;
      }
    }
    return r;
  }

  async finish(): Promise<void> {
    if (this.host?.destroy) for (const a of this.actors) await settle(this.ctx.call('destroy', 'destroy(actor)', () => this.host.destroy!(a)));
    if (this.host?.unload) await settle(this.ctx.call('unload', 'unload()', () => this.host.unload!()));
  }

  /** load, create, run each input, then destroy and unload. */
  async lifecycle(inputs: Record<string, unknown>[] = [SIMPLE_INPUT]): Promise<{ load: Settled<unknown>; runs: Settled<RunResult>[] }> {
    const load = await this.load();
    const runs: Settled<RunResult>[] = [];
    if (load.ok) {
      const a = await this.create();
      if (a.ok) for (const input of inputs) runs.push(await this.run(a.value, input));
    }
    await this.finish();
    return { load, runs };
  }
}

async function withSession<T>(ctx: HostContext, scenario: ProbeScenario, body: (s: Session) => Promise<T>): Promise<T> {
  // Built before the recorder is installed: compiling WAT instantiates wabt's own module.
  const s = new Session(ctx, scenario, await buildProbe(scenario));
  const uninstall = s.rec.install();
  try {
    return await body(s);
  } finally {
    uninstall();
  }
}

function needLoad(s: Session, load: Settled<unknown>): void {
  if (!load.ok) throw new Violation(`load(probe module: ${s.what})`, `rejected: ${load.error}`, 'the host loads a well-formed pack');
  if (!s.inst) throw new Violation(`load(probe module: ${s.what})`, 'no instantiation of the module was seen', 'the host instantiates the module it was given');
}

const scenarioArb = (base: Partial<ProbeScenario>) =>
  fc.record({ inputs: fc.integer({ min: 1, max: 3 }), allocFailsAt: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }).map(({ inputs, allocFailsAt }) => ({
    scenario: { templates: [TEMPLATE], ...base, ...(allocFailsAt ? { allocFailsAt } : {}) } as ProbeScenario,
    inputs: Array.from({ length: inputs }, (_, i) => ({ in: { type: 'Integer', data: i } })),
  }));

const hostRuns = (ctx: HostContext) => Math.max(1, Math.round(ctx.options.runs / 5));

export const allocPaired: HostProperty = {
  id: 'host.alloc.paired',
  check: (ctx) =>
    runFcAsync(ctx, 'host.alloc.paired', hostRuns(ctx), fc.asyncProperty(scenarioArb({}), async ({ scenario, inputs }) =>
      withSession(ctx, scenario, async (s) => {
        const { load } = await s.lifecycle(inputs);
        needLoad(s, load);
        for (const a of s.inst!.allocs) {
          const where = a.run === null ? 'outside a run (deadline: unload)' : `during run() #${a.run + 1} (deadline: that run resolving)`;
          const call = `__reflow_pack_alloc(${a.block.size}) → ${a.block.ptr}, ${where}, with a ${s.what}`;
          if (a.run !== null && a.freesByDeadline === 0) throw new Violation(call, a.frees.length ? 'freed only after run() had resolved' : 'never freed', 'freed by the time the run() that allocated it resolved');
          if (a.frees.length !== 1) throw new Violation(call, a.frees.length === 0 ? 'never freed' : `freed ${a.frees.length} times (sizes ${a.frees.join(', ')})`, 'freed exactly once');
          if (a.frees[0] !== a.block.size) throw new Violation(call, `freed with size ${a.frees[0]}`, `freed with the size it was allocated with, ${a.block.size}`);
        }
      }),
    ), [1, 2].map((allocFailsAt) => [{ scenario: { templates: [TEMPLATE], allocFailsAt }, inputs: [SIMPLE_INPUT] }])),
};

const RESULT_SCENARIOS = ['echo', 'empty', 'nonjson-error', 'oob-ptr'] as const;

export const outputFreed: HostProperty = {
  id: 'host.output.freed',
  check: (ctx) =>
    runFcAsync(ctx, 'host.output.freed', hostRuns(ctx), fc.asyncProperty(fc.constantFrom(...RESULT_SCENARIOS), async (result) =>
      withSession(ctx, { templates: [TEMPLATE], result }, async (s) => {
        const { load } = await s.lifecycle();
        needLoad(s, load);
        for (const r of s.inst!.runs) {
          const call = `__reflow_pack_actor_run(${r.args.join(', ')}) answering status ${r.status}, out_ptr ${r.outPtr}, out_len ${r.outLen} (${s.what})`;
          if (!r.resultInBounds) {
            if (r.outPtr !== 0 && r.resultFrees.length) throw new Violation(call, `the out-of-bounds result was freed (${r.resultFrees.join(', ')})`, 'no free of a result outside memory: it is not a block of the pack\'s');
            continue;
          }
          const want = Math.max(r.outLen, 1);
          if (r.freesByDeadline === 0 && r.resultFrees.length) throw new Violation(call, 'the result freed only after run() had resolved', `__reflow_pack_free(${r.outPtr}, ${want}) by the time run resolved`);
          if (r.resultFrees.length !== 1 || r.resultFrees[0] !== want)
            throw new Violation(call, r.resultFrees.length ? `the result freed with sizes [${r.resultFrees.join(', ')}]` : 'the result never freed', `__reflow_pack_free(${r.outPtr}, ${want}) exactly once by the time run resolved (max(out_len, 1): a zero-length result still holds 1 byte)`);
        }
      }),
    )),
};

export const memoryRegrow: HostProperty = {
  id: 'host.memory.regrow',
  check: (ctx) =>
    runFcAsync(ctx, 'host.memory.regrow', hostRuns(ctx), fc.asyncProperty(fc.constantFrom('alloc', 'run'), fc.integer({ min: 0, max: 1000 }), async (where, n) =>
      withSession(ctx, { templates: [TEMPLATE], ...(where === 'alloc' ? { growInAlloc: true } : { growInRun: true }) }, async (s) => {
        const input = { in: { type: 'Integer', data: n } };
        const { load, runs } = await s.lifecycle([input]);
        needLoad(s, load);
        const r = s.inst!.runs[0];
        const got = runs[0];
        const call = `run(actor, ${JSON.stringify(input)}) with a ${s.what}`;
        if (got && !got.ok) throw new Violation(call, `rejected: ${got.error}`, 'the payload written into, and the result read from, memory as it is after growth');
        if (!r || !got) throw new Violation(call, 'no __reflow_pack_actor_run call', 'one run call into the pack');
        const written = r.payload ? new TextDecoder().decode(r.payload) : null;
        const wantPayload = JSON.stringify({ input });
        if (written === null || !sameJson(written, { input })) throw new Violation(call, `the payload the pack read: ${r.payload ? showBytes(r.payload) : 'outside memory'}`, `${wantPayload}, written into memory as it is after growth`);
        const want = echoOutputs(r.args[2]!);
        if (!got.value.ok || JSON.stringify(got.value.outputs) !== JSON.stringify(want)) throw new Violation(call, `resolved ${JSON.stringify(got.value)}`, `{ok: true, outputs: ${JSON.stringify(want)}}, read from memory as it is after growth`);
      }),
    )),
};

function sameJson(text: string, want: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(want);
  } catch {
    return false;
  }
}

export const runLiveBlocks: HostProperty = {
  id: 'host.run.live-blocks',
  check: (ctx) =>
    runFcAsync(ctx, 'host.run.live-blocks', hostRuns(ctx), fc.asyncProperty(fc.integer({ min: 1, max: 3 }), async (n) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const { load } = await s.lifecycle(Array.from({ length: n }, (_, i) => ({ in: { type: 'String', data: 'x'.repeat(i * 40) } })));
        needLoad(s, load);
        for (const r of s.inst!.runs) if (r.pointerProblems.length) throw new Violation(`__reflow_pack_actor_run(${r.args.join(', ')})`, r.pointerProblems.join('; '), 'the payload and both out slots inside live blocks the host allocated from the pack');
        if (s.inst!.canaryProblems.length) throw new Violation('the host\'s writes into pack memory', s.inst!.canaryProblems.join('; '), 'no byte written outside the blocks the host allocated');
      }),
    )),
};

export const registerOnce: HostProperty = {
  id: 'host.register.once',
  check: (ctx) =>
    runFcAsync(ctx, 'host.register.once', hostRuns(ctx), fc.asyncProperty(fc.constant(null), async () =>
      withSession(ctx, { templates: [TEMPLATE, 'probe.other'] }, async (s) => {
        const { load } = await s.lifecycle();
        needLoad(s, load);
        for (const [i, inst] of s.rec.instances.entries()) {
          if (inst.registerCalls !== 1) throw new Violation(`instantiation #${i + 1} of the probe module`, `__reflow_pack_register called ${inst.registerCalls} times`, 'exactly once per instantiation');
          if (inst.createBeforeRegister) throw new Violation(`instantiation #${i + 1} of the probe module`, '__reflow_pack_create_actor called before __reflow_pack_register', 'registration before any create_actor');
        }
      }),
    )),
};

export const outputBounds: HostProperty = {
  id: 'host.output.bounds',
  check: (ctx) =>
    runFcAsync(ctx, 'host.output.bounds', hostRuns(ctx), fc.asyncProperty(fc.constantFrom('oob-ptr', 'overflow-len') as fc.Arbitrary<'oob-ptr' | 'overflow-len'>, async (result) =>
      withSession(ctx, { templates: [TEMPLATE], result }, async (s) => {
        const { load, runs } = await s.lifecycle();
        needLoad(s, load);
        const r = runs[0];
        const pack = s.inst!.runs[0];
        const call = `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with the pack answering out_ptr ${pack?.outPtr}, out_len ${pack?.outLen} (${result === 'oob-ptr' ? 'past the end of memory' : 'wrapping around 2^32'})`;
        if (!r) throw new Violation(call, 'run was never called', '{ok: false}');
        if (!r.ok) throw new Violation(call, `rejected: ${r.error}`, 'resolves {ok: false, error}: an unhandled error is not a verdict');
        if (r.value.ok !== false) throw new Violation(call, `resolved ${JSON.stringify(r.value).slice(0, 300)}`, '{ok: false}: the result lies outside memory, so there is nothing to read');
      }),
    )),
};

export const createZero: HostProperty = {
  id: 'host.create.zero',
  check: (ctx) =>
    runFcAsync(ctx, 'host.create.zero', hostRuns(ctx), fc.asyncProperty(fc.constant(null), async () =>
      withSession(ctx, { templates: [TEMPLATE], createReturnsZero: true }, async (s) => {
        const load = await s.load();
        if (!load.ok) return; // a host that creates while loading may reject load
        const a = await s.create();
        await s.finish();
        if (a.ok) throw new Violation(`create(${JSON.stringify(TEMPLATE)}) with __reflow_pack_create_actor answering 0`, `resolved with a handle (${String(a.value).slice(0, 100)})`, 'create rejects with an error: 0 is no instance');
      }),
    )),
};

export const errorNonJson: HostProperty = {
  id: 'host.error.nonjson',
  check: (ctx) =>
    runFcAsync(ctx, 'host.error.nonjson', hostRuns(ctx), fc.asyncProperty(fc.constant(null), async () =>
      withSession(ctx, { templates: [TEMPLATE], result: 'nonjson-error' }, async (s) => {
        const { load, runs } = await s.lifecycle();
        needLoad(s, load);
        const r = runs[0];
        const pack = s.inst!.runs[0];
        const call = `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with the pack answering status -4 and the bytes "not json {"`;
        if (!r || !pack) throw new Violation(call, 'run was never called', '{ok: false}');
        if (!r.ok) throw new Violation(call, `rejected: ${r.error}`, 'resolves {ok: false, error}');
        if (r.value.ok !== false) throw new Violation(call, `resolved ${JSON.stringify(r.value)}`, '{ok: false}');
        if (pack.resultFrees.length !== 1) throw new Violation(call, `the result buffer freed ${pack.resultFrees.length} times`, `__reflow_pack_free(${pack.outPtr}, ${Math.max(pack.outLen, 1)}) exactly once`);
      }),
    )),
};

export const instanceDistinct: HostProperty = {
  id: 'host.instance.distinct',
  check: (ctx) =>
    runFcAsync(ctx, 'host.instance.distinct', hostRuns(ctx), fc.asyncProperty(fc.constant(null), async () =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const load = await s.load();
        needLoad(s, load);
        const before = s.inst!.creates.length;
        const a = await s.create();
        const b = await s.create();
        await s.finish();
        const made = s.inst!.creates.slice(before);
        const call = `create(${JSON.stringify(TEMPLATE)}) twice`;
        if (!a.ok) throw new Violation(call, `the first create rejected: ${a.error}`, 'two actors');
        if (!b.ok) throw new Violation(call, `the second create rejected: ${b.error}`, 'two actors');
        if (made.length !== 2 || made[0] === made[1]) throw new Violation(call, `${made.length} __reflow_pack_create_actor call(s) during the two creates${made.length ? ` (ids ${made.join(', ')})` : ''}`, 'two create_actor calls giving two distinct ids: nodes must not share actor state');
      }),
    )),
};

export const instanceDestroyed: HostProperty = {
  id: 'host.instance.destroyed',
  check: (ctx) =>
    runFcAsync(ctx, 'host.instance.destroyed', hostRuns(ctx), fc.asyncProperty(fc.integer({ min: 1, max: 3 }), async (n) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const load = await s.load();
        needLoad(s, load);
        for (let i = 0; i < n; i++) await s.create();
        await s.finish();
        const left = s.inst!.creates.filter((id) => !s.inst!.destroys.includes(id));
        const how = [s.host.destroy ? 'destroy' : null, s.host.unload ? 'unload' : null].filter(Boolean).join(' and ') || 'neither destroy nor unload (the host has none)';
        if (left.length) throw new Violation(`${n} create(s), then ${how}`, `instance(s) ${left.join(', ')} never destroyed (__reflow_pack_destroy_actor calls: [${s.inst!.destroys.join(', ')}])`, 'every instance the host created destroyed by the time destroy/unload complete');
      }),
    )),
};

/** A generated Message as the plain JSON value `run` takes (Integers within ±(2^53−1)). */
export function toJsValue(v: Json): unknown {
  if (typeof v === 'bigint') return Number(BigInt.asIntN(53, v)); // within ±2^52: exact as a JS number
  if (v instanceof RawJson) return JSON.parse(v.text);
  if (Array.isArray(v)) return v.map(toJsValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsValue(x)]));
  return v;
}

const inputArb = fc.dictionary(fc.oneof(fc.constantFrom('in', 'a', 'b'), utf8EdgeString()), fc.oneof(validMessage(), validMessage({ stringArb: utf8EdgeString() })), { minKeys: 1, maxKeys: 3 }).map((d) => Object.fromEntries(Object.entries(d).map(([k, m]) => [k, toJsValue(m)])));

export const payloadRoundtrip: HostProperty = {
  id: 'host.payload.roundtrip',
  check: (ctx) =>
    runFcAsync(ctx, 'host.payload.roundtrip', ctx.options.runs, fc.asyncProperty(inputArb, async (input) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const { load } = await s.lifecycle([input]);
        needLoad(s, load);
        const r = s.inst!.runs[0];
        const call = `run(actor, input) with input ${JSON.stringify(input).slice(0, 300)}`;
        if (!r || !r.payload) throw new Violation(call, 'no payload in memory', 'a payload {"input": …}');
        let decoded: unknown;
        try {
          decoded = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.payload));
        } catch (e) {
          throw new Violation(call, `the payload ${showBytes(r.payload)} does not decode: ${(e as Error).message}`, 'UTF-8 JSON {"input": …}');
        }
        const want = JSON.stringify(JSON.parse(JSON.stringify(input)));
        const got = JSON.stringify((decoded as { input?: unknown })?.input);
        if (got !== want) throw new Violation(call, `payload ${showBytes(r.payload)}`, `its "input" member equal to the input given: ${want.slice(0, 300)}`);
      }),
    )),
};

export const registerDuplicate: HostProperty = {
  id: 'host.register.duplicate',
  check: (ctx) =>
    runFcAsync(ctx, 'host.register.duplicate', hostRuns(ctx), fc.asyncProperty(fc.constant(null), async () =>
      withSession(ctx, { templates: ['probe.dup', 'probe.dup'] }, async (s) => {
        const load = await s.load();
        await s.finish();
        if (!load.ok) return; // rejecting the pack reports it
        const listed = load.value.templates.filter((t) => t.name === 'probe.dup').length;
        if (listed !== 2) throw new Violation('load(a probe pack registering "probe.dup" twice)', `resolved with templates ${JSON.stringify(load.value.templates.map((t) => t.name))}`, 'load rejects, or lists "probe.dup" twice: one registration must not silently shadow the other');
      }),
    )),
};

export const HOST_BATTERY: readonly HostProperty[] = [
  allocPaired,
  outputFreed,
  memoryRegrow,
  runLiveBlocks,
  registerOnce,
  outputBounds,
  createZero,
  errorNonJson,
  instanceDistinct,
  instanceDestroyed,
  payloadRoundtrip,
  registerDuplicate,
];
