// Model-based testing (fc.commands) of the allocator and the instance
// lifecycle. The model is what the host knows: the blocks it holds, the
// instance ids that are live, the ids it destroyed. Each command acts on the
// real pack through the checked host, then the property's `verify` runs.
import fc from 'fast-check';
import { RunStatus } from '../harness/abi/abi.ts';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import { ownedBy, payloadOwner } from './attribution.ts';
import type { Block, FindingKind } from '../harness/hosts/wasm/ledger.ts';
import { showBytes } from '../harness/abi/readable.ts';
import type { CheckedWasmHost } from '../harness/hosts/wasm/wasm-host.ts';
import { invalidJsonPayload, validPayload } from './arbitraries/payload.ts';
import { describeAnswer, tickCall } from './support.ts';
import { commandsReplayPath, type PropertyContext } from './types.ts';

export interface Model {
  blocks: Block[];
  heldBytes: number;
  live: number[];
  dead: number[];
  /** The factory ids the pack registered (by its registration calls, whether or not their metadata decodes). */
  factories: number[];
}

export interface Real {
  host: CheckedWasmHost;
  /** Runs after every command; throws to fail the property. */
  verify: (host: CheckedWasmHost, model: Model) => void;
}

type Cmd = fc.Command<Model, Real>;
const HELD_LIMIT = 256 * 1024 * 1024;

class AllocCmd implements Cmd {
  constructor(readonly size: number) {}
  check = (m: Readonly<Model>) => m.heldBytes + this.size <= HELD_LIMIT;
  run(m: Model, r: Real) {
    const b = r.host.alloc(this.size, 'host-held');
    if (b) {
      m.blocks.push(b);
      m.heldBytes += b.size;
    }
    r.verify(r.host, m);
  }
  toString = () => `alloc(${this.size})`;
}

type FreeForm = 'exact' | 'ptr 0' | 'size 0';
class FreeCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly form: FreeForm,
  ) {}
  check = (m: Readonly<Model>) => m.blocks.length > 0;
  run(m: Model, r: Real) {
    const i = this.pick % m.blocks.length;
    const b = m.blocks[i]!;
    if (this.form === 'exact') {
      m.blocks.splice(i, 1);
      m.heldBytes -= b.size;
      r.host.free(b);
    } else if (this.form === 'ptr 0') ownedBy('wasm.free.noop', () => r.host.freeRaw(0, b.size), '__reflow_pack_free');
    else ownedBy('wasm.free.noop', () => r.host.freeRaw(b.ptr, 0), '__reflow_pack_free');
    r.verify(r.host, m);
  }
  toString = () => `free(block ${this.pick}, ${this.form})`;
}

class CreateCmd implements Cmd {
  constructor(readonly factory: number) {}
  check = () => true;
  run(m: Model, r: Real) {
    const id = r.host.create(this.factory);
    const registered = m.factories.includes(this.factory >>> 0);
    // What create answers is wasm.instance.create's statement, distinct live ids wasm.instance.unique's.
    if (registered && id === 0) throw new StepBroken('wasm.instance.create', `__reflow_pack_create_actor(${this.factory})`, '0', `a non-zero id (factory ${this.factory} is registered)`);
    if (!registered && id !== 0) throw new StepBroken('wasm.instance.create', `__reflow_pack_create_actor(${this.factory >>> 0})`, String(id), `0 (the registered factory ids are [${m.factories.join(', ')}])`);
    if (id !== 0) {
      if (m.live.includes(id)) throw new StepBroken('wasm.instance.unique', `__reflow_pack_create_actor(${this.factory})`, `${id}, the id of an instance that is still live`, `an id distinct from the live ids [${m.live.join(', ')}]`);
      m.live.push(id);
      m.dead = m.dead.filter((d) => d !== id);
    }
    r.verify(r.host, m);
  }
  toString = () => `create(${this.factory >>> 0})`;
}

type Which = 'live' | 'dead' | 'never issued';
function pickId(m: Readonly<Model>, which: Which, pick: number): number | null {
  if (which === 'live') return m.live.length ? m.live[pick % m.live.length]! : null;
  if (which === 'dead') return m.dead.length ? m.dead[pick % m.dead.length]! : null;
  const id = pick >>> 0;
  return m.live.includes(id) || m.dead.includes(id) ? null : id;
}

/** Who answers for a run on an id: a dead one is wasm.instance.destroy's, one never issued wasm.run.unknown-instance's. */
const idOwner = (which: Which, kind: string) => (which === 'dead' ? 'wasm.instance.destroy' : which === 'never issued' ? 'wasm.run.unknown-instance' : payloadOwner(kind));

class RunCmd implements Cmd {
  constructor(
    readonly which: Which,
    readonly pick: number,
    readonly payload: Uint8Array,
    readonly kind: string,
  ) {}
  check = (m: Readonly<Model>) => pickId(m, this.which, this.pick) !== null;
  run(m: Model, r: Real) {
    const id = pickId(m, this.which, this.pick)!;
    const t = ownedBy(idOwner(this.which, this.kind), () => r.host.run(id, this.payload));
    if (!t.allocFailed) {
      if (this.which === 'live' && t.status === RunStatus.UnknownInstance)
        throw new StepBroken('wasm.instance.model', tickCall(t), describeAnswer(t), `no "unknown instance" (-1): instance ${id} is live`);
      if (this.which !== 'live' && t.status === 0)
        throw new StepBroken(idOwner(this.which, this.kind), tickCall(t), describeAnswer(t), `a non-zero status: instance ${id} is ${this.which === 'dead' ? 'destroyed' : 'not one the pack issued'}`);
    }
    r.verify(r.host, m);
  }
  toString = () => `run(${this.which} id ${this.pick}, ${showBytes(this.payload, 60)})`;
}

/** Runs every live instance once: an instance the pack lost shows at once. */
class RunEachLiveCmd implements Cmd {
  constructor(readonly payload: Uint8Array) {}
  check = (m: Readonly<Model>) => m.live.length > 0;
  run(m: Model, r: Real) {
    for (const id of m.live) {
      const t = ownedBy('wasm.run.valid-payload', () => r.host.run(id, this.payload));
      if (!t.allocFailed && t.status === RunStatus.UnknownInstance)
        throw new StepBroken('wasm.instance.model', tickCall(t), describeAnswer(t), `no "unknown instance" (-1): instance ${id} is live (live: [${m.live.join(', ')}])`);
      r.verify(r.host, m);
    }
  }
  toString = () => `run each live instance(${showBytes(this.payload, 60)})`;
}

class DestroyCmd implements Cmd {
  constructor(
    readonly which: Which,
    readonly pick: number,
  ) {}
  check = (m: Readonly<Model>) => pickId(m, this.which, this.pick) !== null;
  run(m: Model, r: Real) {
    const id = pickId(m, this.which, this.pick)!;
    r.host.destroy(id);
    if (this.which === 'live') {
      m.live = m.live.filter((x) => x !== id);
      m.dead.push(id);
    }
    r.verify(r.host, m);
  }
  toString = () => `destroy(${this.which} id ${this.pick})`;
}

const sizeArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 256 }) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 65536 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }) });

export function allocCommands(): fc.Arbitrary<Cmd>[] {
  return [
    sizeArb.map((n) => new AllocCmd(n)),
    fc.tuple(fc.nat(), fc.constantFrom<FreeForm>('exact', 'exact', 'exact', 'ptr 0', 'size 0')).map(([p, f]) => new FreeCmd(p, f)),
  ];
}

function allInports(ctx: PropertyContext): string[] {
  return [...new Set(ctx.survey.templates.flatMap((t) => t.inports))];
}

export function lifecycleCommands(ctx: PropertyContext): fc.Arbitrary<Cmd>[] {
  const n = ctx.survey.templates.length;
  // Registered factory ids (as the pack numbered them) and others.
  const ids = ctx.survey.templates.map((t) => t.factoryId);
  const registered = ids.length ? fc.constantFrom(...ids) : fc.constant(0);
  const create = fc.oneof({ weight: 4, arbitrary: registered }, { weight: 1, arbitrary: fc.integer({ min: n, max: 0xffffffff }) }).map((f) => new CreateCmd(f));
  return [
    create,
    create, // twice the weight: enough live instances to matter
    fc.tuple(fc.constantFrom<Which>('live', 'live', 'dead', 'never issued'), fc.nat()).map(([w, p]) => new DestroyCmd(w, p)),
  ];
}

export function tickCommands(ctx: PropertyContext): fc.Arbitrary<Cmd>[] {
  const ports = allInports(ctx);
  const payload = fc.oneof({ weight: 3, arbitrary: validPayload(ports) }, { weight: 1, arbitrary: invalidJsonPayload(ports) });
  return [
    ...lifecycleCommands(ctx),
    fc.tuple(fc.constantFrom<Which>('live', 'live', 'live', 'dead', 'never issued'), fc.nat(), payload).map(([w, p, c]) => new RunCmd(w, p, c.bytes, c.kind)),
    validPayload(ports).map((c) => new RunEachLiveCmd(c.bytes)),
  ];
}

/** A commands arbitrary that a replay line can reproduce exactly. */
export function commandsArb(ctx: PropertyContext, arbs: fc.Arbitrary<Cmd>[], maxCommands: number) {
  return fc.commands(arbs, { maxCommands, size: 'medium', replayPath: commandsReplayPath(ctx) });
}

/** Runs commands on a fresh, registered instance. */
export function modelRun(ctx: PropertyContext, cmds: Iterable<Cmd>, verify: Real['verify']): void {
  const host = ctx.fresh();
  const model: Model = { blocks: [], heldBytes: 0, live: [], dead: [], factories: host.ledger.registrations.map((r) => r.factoryId) };
  fc.modelRun(() => ({ model, real: { host, verify } }), cmds);
}

/** A verify step that fails on the first ledger finding of a kind. */
export function checkBlocks(kind: FindingKind): Real['verify'] {
  return (host) => {
    const f = host.ledger.firstFinding(kind);
    if (f) throw new Violation(f.call, f.detail, kind === 'overlap' ? 'no block overlapping a host-held block' : 'host-held blocks unchanged by the call (the pack writes only the two out slots)');
  };
}

export const noCheck: Real['verify'] = () => {};
