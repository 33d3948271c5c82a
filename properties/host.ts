// host.*: a JS wasm-pack host, through its adapter, against probe packs.
// Each run makes a fresh host from the adapter's factory, hands it a probe
// pack, drives it through load/create/run/destroy/unload, and judges what
// the recorder saw the host do to the pack. Deadlines are PROPERTIES.md's.
//
// Attribution (PROPERTIES.md): a load of a conforming probe that rejects is
// host.load.conforming's failure, so any other property meeting it is blocked
// by that id (StepBroken); a run that stopped before its check for any other
// reason (no instance could be created) did not reach it (notReached), and a
// property none of whose runs reached its check is skipped, never passed.
// Properties built on fixed scenarios run each scenario once.
import fc from 'fast-check';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import type { HostAdapterFactory, HostUnderTest, RunResult } from '../harness/hosts/js/adapter.ts';
import { BAD_METADATA, buildProbe, decoyName, echoOutputs, PROBE_HIGH_PAGES, type BadMetadata, type ProbeScenario } from '../harness/hosts/js/probe-pack.ts';
import { HostRecorder, type RecordedInstance } from '../harness/hosts/js/recorder.ts';
import { showBytes } from '../harness/abi/readable.ts';
import type { HostPropertyId } from './catalog.ts';
import { validMessage } from './arbitraries/message.ts';
import { utf8EdgeString } from './arbitraries/utf8.ts';
import type { Json } from './arbitraries/json-text.ts';
import { RawJson } from './arbitraries/json-text.ts';
import { blockedOutcome, messageOf, notReached, runFcAsync, type CheckOptions, type Outcome } from './types.ts';
import { defineProperty, type Defined, type Property } from './define.ts';

export type AdapterCall = 'factory' | 'load' | 'create' | 'run' | 'destroy' | 'unload';

export interface HostContext {
  factory: HostAdapterFactory;
  options: CheckOptions;
  /** Marks an adapter call for the watchdog (the adapter may never return). */
  call<T>(name: AdapterCall, detail: string, f: () => Promise<T>): Promise<T>;
}

export interface HostProperty extends Property<HostContext, HostPropertyId> {
  /**
   * The adapter calls that are this property's own checked steps: a call of
   * these cut off by the watchdog fails it; any other call cut off blocks it
   * (by the harness result).
   */
  checks: AdapterCall[];
  check(ctx: HostContext): Promise<Outcome>;
}

const LOAD: HostPropertyId = 'host.load.conforming';

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
  readonly rec: HostRecorder;
  host!: HostUnderTest;
  readonly actors: unknown[] = [];
  /** Trace length of the probe instance when load settled (events before it happened while loading). */
  loadEnd = 0;
  constructor(
    readonly ctx: HostContext,
    readonly scenario: ProbeScenario,
    readonly module: WebAssembly.Module,
  ) {
    this.rec = new HostRecorder(module);
  }

  /** The first instance of the probe module (other instantiations are not recorded). */
  get inst(): RecordedInstance | undefined {
    return this.rec.instances[0];
  }

  /** The scenario in words, for messages. */
  get what(): string {
    const s = this.scenario;
    const bits = [`probe pack registering ${JSON.stringify(s.templates)}`];
    if (s.badMetadata) bits.push(`then a registration with ${s.badMetadata} metadata`);
    if (s.highMemory) bits.push('from memory above 2 GiB');
    if (s.result && s.result !== 'echo') bits.push(`run answering '${s.result}'`);
    if (s.allocFailsAt) bits.push(`alloc call #${s.allocFailsAt} returning 0`);
    if (s.createReturnsZero) bits.push('create_actor returning 0');
    if (s.growInAlloc) bits.push('memory growing in every alloc');
    if (s.growInRun) bits.push('memory growing in every run');
    return bits.join(', ');
  }

  async load(): Promise<Settled<{ templates: { name: string; inports?: unknown; outports?: unknown }[] }>> {
    this.host = await this.ctx.call('factory', 'the adapter factory', () => this.ctx.factory());
    const r = await settle(this.ctx.call('load', `load(probe module: ${this.what})`, () => this.host.load(this.module)));
    this.loadEnd = this.inst?.events.length ?? 0;
    return r;
  }

  /** Calls of one pack export seen while the host was loading. */
  duringLoad(call: string) {
    return (this.inst?.events ?? []).slice(0, this.loadEnd).filter((e) => e.call === call);
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
  async lifecycle(inputs: Record<string, unknown>[] = [SIMPLE_INPUT]): Promise<{ load: Settled<unknown>; create: Settled<unknown> | null; runs: Settled<RunResult>[] }> {
    const load = await this.load();
    const runs: Settled<RunResult>[] = [];
    let create: Settled<unknown> | null = null;
    if (load.ok) {
      create = await this.create();
      if (create.ok) for (const input of inputs) runs.push(await this.run(create.value, input));
    }
    await this.finish();
    return { load, create, runs };
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

/**
 * The load of a conforming probe succeeded, with an instance of the probe
 * seen; otherwise the step broke, and host.load.conforming states it.
 */
function needLoad(s: Session, load: Settled<unknown>): asserts load is { ok: true; value: unknown } {
  const step = `load(probe module: ${s.what})`;
  if (!load.ok) throw new StepBroken(LOAD, step, `rejected: ${load.error}`);
  if (!s.inst) throw new StepBroken(LOAD, step, 'resolved, but no instantiation of the probe module was seen');
}

/** Why a run stopped before its check when no actor could be created; null when one was. */
function noActor(create: Settled<unknown> | null): string | null {
  if (create && !create.ok) return `create(${JSON.stringify(TEMPLATE)}) rejected: ${create.error}`;
  return null;
}

type Reach = void | { notReached: string };

/**
 * A property built on fixed scenarios: each runs once, in order. Counts the
 * runs that reached the check; none reaching it is a skip, never a pass.
 */
async function runFixed<C>(id: HostPropertyId, cases: { label: string; value: C }[], body: (c: C) => Promise<Reach>): Promise<Outcome> {
  let reached = 0;
  const missed: string[] = [];
  for (const [i, c] of cases.entries()) {
    try {
      const r = await body(c.value);
      if (r && 'notReached' in r) missed.push(`${c.label}: ${r.notReached}`);
      else reached++;
    } catch (e) {
      if (e instanceof StepBroken && e.owner !== id) return blockedOutcome(e, i + 1, { reached, counterexample: c.label });
      const own = e instanceof Violation || e instanceof StepBroken;
      return { status: own ? 'failed' : 'errored', runs: i + 1, reached: reached + 1, ...(e instanceof StepBroken ? { step: e.step } : {}), message: messageOf(e), counterexample: c.label };
    }
  }
  const n = cases.length;
  const what = n === 1 ? 'one fixed scenario, run once' : `${n} fixed scenarios, one run each`;
  if (reached === 0) return { status: 'skipped', runs: n, reached: 0, message: `not evaluated: no run reached the check (${what}; ${missed.join('; ')})` };
  return { status: 'passed', runs: n, reached, message: `${what}${missed.length ? `; not reached: ${missed.join('; ')}` : ''}` };
}

const one = (label: string) => [{ label, value: null }];

export const loadConforming: HostProperty = {
  id: 'host.load.conforming',
  checks: ['factory', 'load'],
  check: (ctx) =>
  runFixed(LOAD, one(`the plain echo probe registering ${JSON.stringify(TEMPLATE)}`), () =>
    withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
      const load = await s.load();
      await s.finish();
      const call = `load(probe module: ${s.what})`;
      if (!load.ok) throw new Violation(call, `rejected: ${load.error}`, 'resolves: the probe is a conforming pack');
      if (!s.inst) throw new Violation(call, 'resolved, but no instantiation of the probe module was seen', 'the host instantiates the module it was given');
      const want = [{ name: TEMPLATE, inports: ['in'], outports: ['out'] }];
      const got = (load.value as { templates?: unknown })?.templates;
      const shown = Array.isArray(got) ? got.map((t: { name?: unknown; inports?: unknown; outports?: unknown }) => ({ name: t?.name, inports: t?.inports, outports: t?.outports })) : got;
      if (JSON.stringify(shown) !== JSON.stringify(want)) throw new Violation(call, `resolved with templates ${JSON.stringify(shown)?.slice(0, 300)}`, `the templates the pack registered, with their ports: ${JSON.stringify(want)}`);
    }),
  ),
};

const scenarioArb = (base: Partial<ProbeScenario>) =>
  fc.record({ inputs: fc.integer({ min: 1, max: 3 }), allocFailsAt: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }).map(({ inputs, allocFailsAt }) => ({
    scenario: { templates: [TEMPLATE], ...base, ...(allocFailsAt ? { allocFailsAt } : {}) } as ProbeScenario,
    inputs: Array.from({ length: inputs }, (_, i) => ({ in: { type: 'Integer', data: i } })),
  }));

const hostRuns = (ctx: HostContext) => Math.max(1, Math.round(ctx.options.runs / 5));

export const allocPaired: HostProperty = {
  id: 'host.alloc.paired',
  checks: ['run', 'unload'],
  check: (ctx) =>
    runFcAsync(ctx, hostRuns(ctx), fc.asyncProperty(scenarioArb({}), async ({ scenario, inputs }) =>
      withSession(ctx, scenario, async (s) => {
        const { load, create } = await s.lifecycle(inputs);
        // A host may allocate while loading: an alloc failing then may honestly fail the load.
        if (!load.ok && s.duringLoad('__reflow_pack_alloc').some((e) => e.ret === 0)) return notReached('the load met the failing alloc');
        needLoad(s, load);
        const why = noActor(create);
        if (why) return notReached(why);
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
  checks: ['run'],
  check: (ctx) =>
    runFixed('host.output.freed', RESULT_SCENARIOS.map((result) => ({ label: `run answering '${result}'`, value: result })), (result) =>
      withSession(ctx, { templates: [TEMPLATE], result }, async (s) => {
        const { load, create } = await s.lifecycle();
        needLoad(s, load);
        const why = noActor(create);
        if (why) return { notReached: why };
        if (!s.inst!.runs.length) return { notReached: 'the host made no __reflow_pack_actor_run call: no result to free' };
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
    ),
};

export const memoryRegrow: HostProperty = {
  id: 'host.memory.regrow',
  checks: ['run'],
  check: (ctx) =>
    runFcAsync(ctx, hostRuns(ctx), fc.asyncProperty(fc.constantFrom('alloc', 'run'), fc.integer({ min: 0, max: 1000 }), async (where, n) =>
      withSession(ctx, { templates: [TEMPLATE], ...(where === 'alloc' ? { growInAlloc: true } : { growInRun: true }) }, async (s) => {
        const input = { in: { type: 'Integer', data: n } };
        const { load, create, runs } = await s.lifecycle([input]);
        needLoad(s, load);
        const why = noActor(create);
        if (why) return notReached(why);
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
  checks: ['run'],
  check: (ctx) =>
    runFcAsync(ctx, hostRuns(ctx), fc.asyncProperty(fc.integer({ min: 1, max: 3 }), async (n) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const { load, create } = await s.lifecycle(Array.from({ length: n }, (_, i) => ({ in: { type: 'String', data: 'x'.repeat(i * 40) } })));
        needLoad(s, load);
        const why = noActor(create);
        if (why) return notReached(why);
        if (!s.inst!.runs.length) return notReached('the host made no __reflow_pack_actor_run call');
        for (const r of s.inst!.runs) if (r.pointerProblems.length) throw new Violation(`__reflow_pack_actor_run(${r.args.join(', ')})`, r.pointerProblems.join('; '), 'the payload and both out slots inside live blocks the host allocated from the pack');
        if (s.inst!.canaryProblems.length) throw new Violation('the host\'s writes into pack memory', s.inst!.canaryProblems.join('; '), 'no byte written outside the blocks the host allocated');
      }),
    )),
};

export const registerOnce: HostProperty = {
  id: 'host.register.once',
  checks: ['load', 'create'],
  check: (ctx) =>
    runFixed('host.register.once', one(`a probe pack registering ${JSON.stringify([TEMPLATE, 'probe.other'])}, loaded, one actor created and run`), () =>
      withSession(ctx, { templates: [TEMPLATE, 'probe.other'] }, async (s) => {
        const { load } = await s.lifecycle();
        needLoad(s, load);
        for (const [i, inst] of s.rec.instances.entries()) {
          if (inst.registerCalls !== 1) throw new Violation(`instantiation #${i + 1} of the probe module`, `__reflow_pack_register called ${inst.registerCalls} times`, 'exactly once per instantiation');
          if (inst.createBeforeRegister) throw new Violation(`instantiation #${i + 1} of the probe module`, '__reflow_pack_create_actor called before __reflow_pack_register', 'registration before any create_actor');
        }
      }),
    ),
};

export const outputBounds: HostProperty = {
  id: 'host.output.bounds',
  checks: ['run'],
  check: (ctx) =>
    runFixed('host.output.bounds', (['oob-ptr', 'overflow-len'] as const).map((result) => ({ label: `run answering '${result}'`, value: result })), (result) =>
      withSession(ctx, { templates: [TEMPLATE], result }, async (s) => {
        const { load, create, runs } = await s.lifecycle();
        needLoad(s, load);
        const why = noActor(create);
        if (why) return { notReached: why };
        const r = runs[0];
        const pack = s.inst!.runs[0];
        const call = `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with the pack answering out_ptr ${pack?.outPtr}, out_len ${pack?.outLen} (${result === 'oob-ptr' ? 'past the end of memory' : 'wrapping around 2^32'})`;
        if (!r) throw new Violation(call, 'run was never called', '{ok: false}');
        if (!r.ok) throw new Violation(call, `rejected: ${r.error}`, 'resolves {ok: false, error}: an unhandled error is not a verdict');
        if (r.value.ok !== false) throw new Violation(call, `resolved ${JSON.stringify(r.value).slice(0, 300)}`, '{ok: false}: the result lies outside memory, so there is nothing to read');
      }),
    ),
};

export const createZero: HostProperty = {
  id: 'host.create.zero',
  checks: ['load', 'create'],
  check: (ctx) =>
    runFixed('host.create.zero', one('a probe pack whose create_actor answers 0'), () =>
      withSession(ctx, { templates: [TEMPLATE], createReturnsZero: true }, async (s) => {
        const load = await s.load();
        const createdWhileLoading = s.duringLoad('__reflow_pack_create_actor').length > 0;
        if (!load.ok) {
          await s.finish();
          // A host that creates instances while loading may reject the load for it.
          if (createdWhileLoading) return;
        }
        needLoad(s, load);
        const a = await s.create();
        await s.finish();
        if (a.ok) throw new Violation(`create(${JSON.stringify(TEMPLATE)}) with __reflow_pack_create_actor answering 0`, `resolved with a handle (${String(a.value).slice(0, 100)})`, 'create rejects with an error: 0 is no instance');
      }),
    ),
};

/** The checks common to results the host must turn into {ok: false}: resolved, an error string, the buffer freed once. */
function expectErrorResolved(s: Session, call: string, r: Settled<RunResult> | undefined, needText: boolean): void {
  const pack = s.inst!.runs[0];
  if (!r || !pack) throw new Violation(call, 'run was never called', '{ok: false}');
  if (!r.ok) throw new Violation(call, `rejected: ${r.error}`, 'resolves {ok: false, error}: an unhandled error is not a verdict');
  if (r.value.ok !== false) throw new Violation(call, `resolved ${JSON.stringify(r.value).slice(0, 300)}`, '{ok: false}');
  if (needText && (typeof r.value.error !== 'string' || r.value.error === '')) throw new Violation(call, `resolved ${JSON.stringify(r.value).slice(0, 300)}`, '{ok: false} with a non-empty error string');
  const want = Math.max(pack.outLen, 1);
  if (pack.resultFrees.length !== 1 || pack.resultFrees[0] !== want) throw new Violation(call, pack.resultFrees.length ? `the result buffer freed with sizes [${pack.resultFrees.join(', ')}]` : 'the result buffer never freed', `__reflow_pack_free(${pack.outPtr}, ${want}) exactly once`);
}

export const errorNonJson: HostProperty = {
  id: 'host.error.nonjson',
  checks: ['run'],
  check: (ctx) =>
    runFixed('host.error.nonjson', one('run answering status -4 and the bytes "not json {"'), () =>
      withSession(ctx, { templates: [TEMPLATE], result: 'nonjson-error' }, async (s) => {
        const { load, create, runs } = await s.lifecycle();
        needLoad(s, load);
        const why = noActor(create);
        if (why) return { notReached: why };
        expectErrorResolved(s, `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with the pack answering status -4 and the bytes "not json {"`, runs[0], false);
      }),
    ),
};

export const instanceDistinct: HostProperty = {
  id: 'host.instance.distinct',
  checks: ['create'],
  check: (ctx) =>
    runFixed('host.instance.distinct', one(`two create(${JSON.stringify(TEMPLATE)}) on one loaded probe`), () =>
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
    ),
};

export const instanceDestroyed: HostProperty = {
  id: 'host.instance.destroyed',
  checks: ['destroy', 'unload'],
  check: (ctx) =>
    runFcAsync(ctx, hostRuns(ctx), fc.asyncProperty(fc.integer({ min: 1, max: 3 }), async (n) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const load = await s.load();
        needLoad(s, load);
        const made: Settled<unknown>[] = [];
        for (let i = 0; i < n; i++) made.push(await s.create());
        await s.finish();
        if (!made.some((c) => c.ok) && !s.inst!.creates.length) return notReached(noActor(made[0]!) ?? 'no actor created');
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

/** The payload the pack read equals {"input": input} as JSON carries it; a Violation otherwise. */
function checkPayload(call: string, payload: Uint8Array | null | undefined, input: unknown): void {
  if (!payload) throw new Violation(call, 'no payload in memory', 'a payload {"input": …}');
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    throw new Violation(call, `the payload ${showBytes(payload)} does not decode: ${(e as Error).message}`, 'UTF-8 JSON {"input": …}');
  }
  const want = JSON.stringify(JSON.parse(JSON.stringify(input)));
  const got = JSON.stringify((decoded as { input?: unknown })?.input);
  if (got !== want) throw new Violation(call, `payload ${showBytes(payload)}`, `its "input" member equal to the input given: ${want.slice(0, 300)}`);
}

export const payloadRoundtrip: HostProperty = {
  id: 'host.payload.roundtrip',
  checks: ['run'],
  check: (ctx) =>
    runFcAsync(ctx, ctx.options.runs, fc.asyncProperty(inputArb, async (input) =>
      withSession(ctx, { templates: [TEMPLATE] }, async (s) => {
        const { load, create } = await s.lifecycle([input]);
        needLoad(s, load);
        const why = noActor(create);
        if (why) return notReached(why);
        checkPayload(`run(actor, input) with input ${JSON.stringify(input).slice(0, 300)}`, s.inst!.runs[0]?.payload, input);
      }),
    )),
};

export const outputNonJsonSuccess: HostProperty = {
  id: 'host.output.nonjson-success',
  checks: ['run'],
  check: (ctx) =>
    runFixed('host.output.nonjson-success', [
      { label: 'run answering status 0 and the bytes "not json {"', value: 'nonjson-success' as const },
      { label: 'run answering status 0 and the JSON array [1,2]', value: 'json-nonobject' as const },
    ], (result) =>
      withSession(ctx, { templates: [TEMPLATE], result }, async (s) => {
        const { load, create, runs } = await s.lifecycle();
        needLoad(s, load);
        const why = noActor(create);
        if (why) return { notReached: why };
        expectErrorResolved(s, `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with the pack answering status 0 and ${result === 'nonjson-success' ? 'the bytes "not json {"' : 'the JSON array [1,2] (not an object of ports)'}`, runs[0], true);
      }),
    ),
};

export const registerBadMetadata: HostProperty = {
  id: 'host.register.bad-metadata',
  checks: ['load', 'create'],
  check: (ctx) =>
    runFixed('host.register.bad-metadata', BAD_METADATA.map((kind) => ({ label: `a second registration with ${kind} metadata`, value: kind })), (kind: BadMetadata) =>
      withSession(ctx, { templates: [TEMPLATE], badMetadata: kind }, async (s) => {
        const escaped: string[] = [];
        const onEscape = (e: unknown) => escaped.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        process.on('unhandledRejection', onEscape);
        try {
          const load = await s.load();
          await s.finish();
          // Rejections the host left unhandled surface after a turn of the event loop.
          await new Promise((r) => setTimeout(r, 0));
          const call = `load(probe module: ${s.what})`;
          if (escaped.length) throw new Violation(call, `an unhandled rejection escaped the host: ${escaped[0]}`, 'load rejects, or the host leaves the template out');
          const badId = 1;
          const created = (s.inst?.events ?? []).filter((e) => e.call === '__reflow_pack_create_actor' && e.args[0] === badId);
          if (created.length) throw new Violation(call, `__reflow_pack_create_actor(${badId}) called for the template with ${kind} metadata`, 'no instance of a template whose metadata is unusable');
          if (!load.ok) return; // refusing the pack reports it
          const listed = load.value.templates.filter((t) => t?.name !== TEMPLATE);
          if (listed.length) throw new Violation(call, `resolved listing ${JSON.stringify(listed).slice(0, 300)}`, 'load rejects, or lists only the templates whose metadata is a JSON object with a non-empty string "name"');
        } finally {
          process.off('unhandledRejection', onEscape);
        }
      }),
    ),
};

let growCheck: string | null | undefined;
/** Null when this machine can grow a wasm memory past 2 GiB (tried for real, once), else why not. */
export function highMemoryUnavailable(): string | null {
  if (growCheck !== undefined) return growCheck;
  try {
    const m = new WebAssembly.Memory({ initial: 1 });
    m.grow(PROBE_HIGH_PAGES - 1);
    growCheck = m.buffer.byteLength > 2 ** 31 ? null : `a wasm memory grew to only ${m.buffer.byteLength} bytes`;
  } catch (e) {
    growCheck = `this machine cannot grow a wasm memory past 2 GiB (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})`;
  }
  return growCheck;
}

export const pointerHigh: HostProperty = {
  id: 'host.pointer.high',
  checks: ['load', 'create', 'run'],
  check: async (ctx) => {
    const why = highMemoryUnavailable();
    if (why) return { status: 'skipped', runs: 0, reached: 0, message: why };
    return runFixed('host.pointer.high', one('a probe whose blocks, results and registration metadata lie above 2 GiB'), () =>
      withSession(ctx, { templates: [TEMPLATE], highMemory: true }, async (s) => {
        const load = await s.load();
        const high = !!s.inst?.memory && s.inst.memory.buffer.byteLength > 2 ** 31;
        const call = `load(probe module: ${s.what})`;
        if (!load.ok) {
          await s.finish();
          // No instance: the probe's 2 GiB memory could not be had here (or the host refused before instantiating).
          if (!s.inst || !high) return { notReached: `no instance of the probe with memory past 2 GiB (load rejected: ${load.error})` };
          return; // a clean refusal
        }
        if (!s.inst) throw new StepBroken(LOAD, call, 'resolved, but no instantiation of the probe module was seen');
        if (!high) {
          await s.finish();
          return { notReached: 'the probe\'s memory is not past 2 GiB' };
        }
        const names = load.value.templates.map((t) => t?.name);
        if (JSON.stringify(names) !== JSON.stringify([TEMPLATE])) {
          await s.finish();
          const wrapped = names.includes(decoyName(TEMPLATE)) ? ` (${JSON.stringify(decoyName(TEMPLATE))} is what lies where a signed reading of the metadata pointer ${2 ** 31 + 64} wraps to)` : '';
          throw new Violation(call, `resolved listing ${JSON.stringify(names)}${wrapped}`, `${JSON.stringify([TEMPLATE])}: the metadata read at its pointer taken as u32`);
        }
        const a = await s.create();
        if (!a.ok) {
          await s.finish();
          return { notReached: noActor(a)! };
        }
        const r = await s.run(a.value, SIMPLE_INPUT);
        await s.finish();
        const runCall = `run(actor, ${JSON.stringify(SIMPLE_INPUT)}) with a ${s.what}`;
        const pack = s.inst.runs[0];
        if (!r.ok) throw new Violation(runCall, `rejected: ${r.error}`, 'the payload written at, and the result read from, addresses above 2 GiB taken as u32');
        if (!pack) throw new Violation(runCall, 'no __reflow_pack_actor_run call', 'one run call into the pack');
        checkPayload(runCall, pack.payload, SIMPLE_INPUT);
        const want = echoOutputs(pack.args[2]!);
        if (!r.value.ok || JSON.stringify(r.value.outputs) !== JSON.stringify(want)) throw new Violation(runCall, `resolved ${JSON.stringify(r.value).slice(0, 300)}`, `{ok: true, outputs: ${JSON.stringify(want)}}, read at out_ptr ${pack.outPtr} taken as u32`);
      }),
    );
  },
};

export const registerDuplicate: HostProperty = {
  id: 'host.register.duplicate',
  checks: ['load'],
  check: (ctx) =>
    runFixed('host.register.duplicate', one('a probe pack registering "probe.dup" twice'), () =>
      withSession(ctx, { templates: ['probe.dup', 'probe.dup'] }, async (s) => {
        const load = await s.load();
        await s.finish();
        if (!load.ok) return; // rejecting the pack reports it
        const listed = load.value.templates.filter((t) => t.name === 'probe.dup').length;
        if (listed !== 2) throw new Violation('load(a probe pack registering "probe.dup" twice)', `resolved with templates ${JSON.stringify(load.value.templates.map((t) => t.name))}`, 'load rejects, or lists "probe.dup" twice: one registration must not silently shadow the other');
      }),
    ),
};

export const HOST_BATTERY: readonly Defined<HostProperty>[] = [
  loadConforming,
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
  outputNonJsonSuccess,
  registerBadMetadata,
  pointerHigh,
  registerDuplicate,
].map((p) => defineProperty('host', p));
