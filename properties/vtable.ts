// vtable.* (and abi.version.* for native packs): the pack's side of the
// PackHostVtable contract, through mock hosts and the allocation tracker.
// These run inside the child process that isolates native code.
import fc from 'fast-check';
import { PackRegisterStatus } from '../harness/abi/abi.ts';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import type { VtableRegistration } from '../harness/hosts/native/vtable-ledger.ts';
import type { AllocTracker } from '../harness/hosts/native/alloc-tracker.ts';
import { NO_EXPECTED_ABI, noTracker, type CallKind } from '../harness/run/native-plan.ts';
import { loadNativePack, MissingSymbol, type NativePack } from '../harness/hosts/native/vtable-host.ts';
import { hex32, showBytes } from '../harness/abi/readable.ts';
import { acceptAllHost, describeSchedule, failureInjectingHost, hostTagArb, scheduleArb, type MockVtableHost } from '../harness/hosts/native/mock-hosts.ts';
import type { VtablePropertyId } from './catalog.ts';
import { runFc, runOnce, type CheckOptions, type Outcome } from './types.ts';
import { defineProperty, type Defined, type Property } from './define.ts';

export interface NativeContext {
  pack: NativePack;
  options: CheckOptions;
  tracker: AllocTracker | null;
  /** Why there is no tracker, when there is none. */
  trackerMissing: string | null;
  /** What an accept-all host saw on this process's first load (null: that registration broke, see vtable.register.status-ok). */
  baseline: Baseline | null;
  /** The answer of the process's first reflow_pack_abi_version() call (null: not made in this process). */
  firstAbiVersion: number | null;
  /** The survey saw `drop` crash or hang (vtable.drop.frees): other properties keep their registrations instead of unloading. */
  dropBroken: boolean;
  /** Reports the pack call about to be made, and its kind (the parent names it, and attributes it, if the process dies or hangs). */
  enter(kind: CallKind, call: string): void;
}

export interface Baseline {
  status: number;
  ids: (string | null)[];
  /** Every user_data was a block the tracker saw allocated. */
  userDataTracked: boolean;
}

export interface NativeProperty extends Property<NativeContext, VtablePropertyId> {
  skipReason?(ctx: NativeContext): string | null;
  check(ctx: NativeContext): Outcome;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export function idText(bytes: Uint8Array | null): string | null {
  if (!bytes) return null;
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return null;
  }
}
const showId = (c: VtableRegistration) => (c.idBytes ? showBytes(c.idBytes) : 'NULL');
const p = (v: bigint) => `0x${v.toString(16)}`;
const idsOf = (h: MockVtableHost) => h.calls.map((c) => idText(c.idBytes));
const listIds = (ids: (string | null)[]) => `[${ids.map((i) => (i === null ? '<not UTF-8>' : JSON.stringify(i))).join(', ')}]`;

/** Registers against `host` (tracking allocations when a tracker is there); returns the status. */
function registerWith(ctx: NativeContext, host: MockVtableHost, what: string): number {
  ctx.enter(host.schedule.size === 0 && what === 'accept everything' ? 'register-all' : 'register-reject', `${ctx.pack.entrypoint}(vtable) with a host that will ${what}`);
  ctx.tracker?.enable();
  try {
    return host.register(ctx.pack);
  } finally {
    ctx.tracker?.disable();
  }
}

/**
 * Unload: drop once per accepted registration, except one whose user_data
 * the pack has already freed (dropping it would be the host's double free:
 * vtable.register.keep-accepted reports it). When the survey saw drop break,
 * the host keeps its registrations (only vtable.drop.frees calls drop then).
 */
function unload(ctx: NativeContext, host: MockVtableHost): void {
  if (ctx.dropBroken) return;
  for (const c of freedByPack(ctx, host)) c.dropped = true;
  ctx.enter('drop', `drop(user_data) of the ${host.accepted().length} accepted registrations (unload)`);
  host.unload(ctx.pack);
}

/** Accepted registrations whose user_data the tracker saw freed before any drop. */
function freedByPack(ctx: NativeContext, host: MockVtableHost) {
  return host.accepted().filter((c) => !c.dropped && c.userDataSeq !== 0n && ctx.tracker !== null && !ctx.tracker.isLive(c.userDataSeq));
}

const seqOf = (ctx: NativeContext) => (ptr: bigint) => ctx.tracker?.seqOf(ptr) ?? 0n;

const trackerSkip = (ctx: NativeContext): string | null => {
  if (!ctx.tracker) return noTracker(ctx.trackerMissing ?? 'unknown');
  if (!ctx.baseline?.userDataTracked) return 'user_data is not a block the allocation tracker saw allocated (a capture-less closure needs no heap, or the pack brings its own allocator)';
  return null;
};

export const nativeVersionStable: NativeProperty = {
  id: 'abi.version.stable',
  check: (ctx) =>
    runOnce(() => {
      const seen: number[] = ctx.firstAbiVersion === null ? [] : [ctx.firstAbiVersion];
      const between = seen.length + 10;
      while (seen.length < 21) {
        ctx.enter('version', 'reflow_pack_abi_version()');
        seen.push(ctx.pack.abiVersion());
        // A registration between two calls; left out when the baseline registration broke (vtable.register.status-ok).
        if (seen.length === between && ctx.baseline) registerAndUnload(ctx);
      }
      const first = seen[0]!;
      const odd = seen.findIndex((v) => v !== first);
      if (odd >= 0) throw new Violation(`reflow_pack_abi_version() (call ${odd + 1} since load${ctx.baseline ? `, a registration between calls ${between} and ${between + 1}` : ''})`, `${seen[odd]} (${hex32(seen[odd]!)}); all: ${seen.join(', ')}`, `${first}, the value of the first call, every time`);
    }, ctx),
};

/** The survey's baseline: an accept-all registration, tracked. */
export function baselineRegistration(ctx: NativeContext): { host: MockVtableHost; baseline: Baseline } {
  const host = acceptAllHost(seqOf(ctx));
  const status = registerWith(ctx, host, 'accept everything');
  const baseline: Baseline = { status, ids: idsOf(host), userDataTracked: host.accepted().length > 0 && host.accepted().every((c) => c.userDataSeq !== 0n) };
  return { host, baseline };
}

/** The survey's last step: drop every baseline registration (untracked, as a host would). */
export const baselineDrop = (ctx: NativeContext, host: MockVtableHost): void => unload(ctx, host);

function registerAndUnload(ctx: NativeContext): void {
  const host = acceptAllHost(seqOf(ctx));
  registerWith(ctx, host, 'accept everything');
  unload(ctx, host);
}

export const nativeVersionExpected: NativeProperty = {
  id: 'abi.version.expected',
  skipReason: (ctx) => (ctx.options.expectAbi === null ? NO_EXPECTED_ABI : null),
  check: (ctx) =>
    runOnce(() => {
      ctx.enter('version', 'reflow_pack_abi_version()');
      const got = ctx.pack.abiVersion();
      const want = ctx.options.expectAbi!;
      if (got !== want) throw new Violation('reflow_pack_abi_version()', `${got} (${hex32(got)})`, `${want} (${hex32(want)}), as given; a mismatch means the pack was built by another rustc: rebuild it`);
    }, ctx),
};

export const shapeSymbols: NativeProperty = {
  id: 'vtable.shape.symbols',
  // A pack missing a symbol never reaches the child (the runner fails this id from the load error);
  // here both are resolved again from the file, so the pass rests on a real lookup.
  check: (ctx) =>
    runOnce(() => {
      try {
        loadNativePack(ctx.pack.path, ctx.pack.entrypoint);
      } catch (e) {
        if (e instanceof MissingSymbol) throw new Violation(`loading ${ctx.pack.path}`, e.message, `the exports reflow_pack_abi_version and ${ctx.pack.entrypoint}`);
        throw e;
      }
    }, ctx),
};

export const nullHost: NativeProperty = {
  id: 'vtable.register.null-host',
  check: (ctx) =>
    runOnce(() => {
      ctx.enter('register-null', `${ctx.pack.entrypoint}(NULL)`);
      const status = ctx.pack.register(0n, null);
      if (status !== PackRegisterStatus.NullArg) throw new Violation(`${ctx.pack.entrypoint}(NULL)`, String(status), '-1 (NullArg)');
    }, ctx),
};

export const hostData: NativeProperty = {
  id: 'vtable.register.host-data',
  check: (ctx) =>
    runFc(ctx, Math.max(1, Math.round(ctx.options.runs / 10)), fc.property(hostTagArb, (tag) => {
      const host = acceptAllHost(seqOf(ctx), tag);
      registerWith(ctx, host, 'accept everything');
      unload(ctx, host);
      const bad = host.calls.find((c) => c.hostData !== tag);
      if (bad) throw new Violation(`register_template call #${bad.index + 1} (id ${showId(bad)})`, `host_data ${p(bad.hostData)}`, `host_data ${p(tag)}, exactly as the host passed it in the vtable`);
    })),
};

export const registerArgs: NativeProperty = {
  id: 'vtable.register.args',
  check: (ctx) =>
    runOnce(() => {
      const host = acceptAllHost(seqOf(ctx));
      registerWith(ctx, host, 'accept everything');
      unload(ctx, host);
      for (const c of host.calls) {
        const call = `register_template call #${c.index + 1}`;
        if (c.idPtr === 0n) throw new Violation(call, 'template_id NULL', 'a NUL-terminated UTF-8 template id');
        if (idText(c.idBytes) === null) throw new Violation(call, `template_id ${showId(c)}`, 'a NUL-terminated, valid UTF-8 template id');
        if (c.factory === 0n) throw new Violation(`${call} (id ${showId(c)})`, 'factory NULL', 'a non-null factory function pointer');
        if (c.drop === 0n) throw new Violation(`${call} (id ${showId(c)})`, 'drop NULL', 'a non-null drop function pointer');
      }
    }, ctx),
};

export const statusOk: NativeProperty = {
  id: 'vtable.register.status-ok',
  check: (ctx) =>
    runOnce(() => {
      const host = acceptAllHost(seqOf(ctx));
      const status = registerWith(ctx, host, 'accept everything');
      unload(ctx, host);
      if (status !== 0 || host.calls.length === 0) throw new Violation(`${ctx.pack.entrypoint}(vtable) with an accept-all host`, `status ${status} after ${host.calls.length} register_template call(s)`, 'status 0 and at least one registration');
    }, ctx),
};

/** A schedule and a host tag: the input of the failure-injecting properties. */
const injected = fc.record({ schedule: scheduleArb(8), tag: hostTagArb });
type Injected = { schedule: ReadonlyMap<number, number>; tag: bigint };

function underSchedule(ctx: NativeContext, { schedule, tag }: Injected) {
  const host = failureInjectingHost(schedule, seqOf(ctx), tag);
  const status = registerWith(ctx, host, describeSchedule(schedule));
  return { host, status, call: `${ctx.pack.entrypoint}(vtable) with a host that will ${describeSchedule(schedule)}` };
}

export const stickyStatus: NativeProperty = {
  id: 'vtable.register.sticky-status',
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(injected, (input) => {
      const { host, status, call } = underSchedule(ctx, input);
      unload(ctx, host);
      const first = host.calls.find((c) => c.answer !== 0)?.answer ?? 0;
      const own = ctx.baseline!.status;
      const ok = own === 0 ? status === first : status === own || status === first;
      if (!ok) {
        const answers = host.calls.map((c) => `#${c.index + 1}→${c.answer}`).join(', ');
        throw new Violation(call, `status ${status} (answers in call order: ${answers})`, own === 0 ? `${first}: the first non-zero answer in call order, or 0 if there was none` : `${own} (the pack's own status against an accept-all host) or ${first} (the first non-zero answer)`);
      }
    })),
};

export const continues: NativeProperty = {
  id: 'vtable.register.continues',
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(injected, (input) => {
      const { host, call } = underSchedule(ctx, input);
      unload(ctx, host);
      const ids = idsOf(host);
      const want = ctx.baseline!.ids;
      if (JSON.stringify(ids) !== JSON.stringify(want)) throw new Violation(call, `registrations ${listIds(ids)}`, `the same registrations as an accept-all host sees: ${listIds(want)}`);
    })),
};

/** Second frees of tracked allocations (frees of blocks allocated before tracking began are normal). */
function strayFrees(ctx: NativeContext): string | null {
  const s = ctx.tracker!.strayFrees().filter((f) => f.seq !== 0n);
  return s.length ? s.map((f) => `free(${p(f.ptr)}) of allocation #${f.seq}, which was already freed`).join('; ') : null;
}

export const reclaim: NativeProperty = {
  id: 'vtable.register.reclaim',
  skipReason: trackerSkip,
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(injected, (input) => {
      const { host, call } = underSchedule(ctx, input);
      const stray = strayFrees(ctx);
      unload(ctx, host);
      if (stray) throw new Violation(call, `a second free during registration: ${stray}`, 'each rejected user_data freed exactly once');
      for (const c of host.calls.filter((x) => x.answer !== 0 && x.userDataSeq !== 0n)) {
        const frees = ctx.tracker!.freeCount(c.userDataSeq);
        if (frees !== 1) throw new Violation(`${call}: call #${c.index + 1} (id ${showId(c)}) answered ${c.answer}`, `its user_data ${p(c.userData)} (allocation #${c.userDataSeq}) freed ${frees} time(s) before register returned`, 'freed exactly once by the pack: a rejected registration must not leak');
      }
    })),
};

export const keepAccepted: NativeProperty = {
  id: 'vtable.register.keep-accepted',
  skipReason: trackerSkip,
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(injected, (input) => {
      const { host, call } = underSchedule(ctx, input);
      const freed = host.calls.filter((c) => c.answer === 0 && c.userDataSeq !== 0n && !ctx.tracker!.isLive(c.userDataSeq));
      // Never drop what the pack already freed: that would be the host's double free.
      for (const c of freed) c.dropped = true;
      unload(ctx, host);
      const c = freed[0];
      if (c) throw new Violation(`${call}: call #${c.index + 1} (id ${showId(c)}) answered 0`, `its user_data ${p(c.userData)} (allocation #${c.userDataSeq}) was freed by the pack before register returned`, 'still allocated: an accepted user_data belongs to the host');
    })),
};

export const uniqueIds: NativeProperty = {
  id: 'vtable.register.unique-ids',
  check: (ctx) =>
    runOnce(() => {
      const ids = ctx.baseline!.ids;
      const dup = ids.find((id, i) => id !== null && ids.indexOf(id) !== i);
      if (dup !== undefined) throw new Violation(`${ctx.pack.entrypoint}(vtable) with an accept-all host`, `registrations ${listIds(ids)}: ${JSON.stringify(dup)} twice`, 'every template id registered once');
    }, ctx),
};

const HANDLES_PER_REGISTRATION = 3;
/** The ABI has no way to release a handle: they are kept here for the life of the process. */
const keptHandles: bigint[] = [];

export const factoryHandle: NativeProperty = {
  id: 'vtable.factory.handle',
  check: (ctx) =>
    runOnce(() => {
      const host = acceptAllHost(seqOf(ctx));
      registerWith(ctx, host, 'accept everything');
      try {
        // A user_data the pack freed before register returned cannot be handed to
        // its factory (a use after free the harness would cause, which may or may
        // not crash): vtable.register.keep-accepted reports that defect.
        const gone = freedByPack(ctx, host)[0];
        if (gone) throw new StepBroken('vtable.register.keep-accepted', `${ctx.pack.entrypoint}(vtable) with an accept-all host`, `the pack freed the accepted user_data ${p(gone.userData)} of ${showId(gone)} (allocation #${gone.userDataSeq}) before register returned, so factory(user_data) cannot be called on it`);
        for (const c of host.accepted()) {
          // A NULL factory cannot be called: vtable.register.args reports it.
          if (c.factory === 0n) throw new StepBroken('vtable.register.args', `register_template call #${c.index + 1} (id ${showId(c)})`, 'it passed a NULL factory, so factory(user_data) cannot be called');
          for (let k = 0; k < HANDLES_PER_REGISTRATION; k++) {
            ctx.enter('factory', `factory(user_data ${p(c.userData)}) of ${showId(c)}, call ${k + 1}`);
            const h = ctx.pack.factory(c);
            const call = `factory(user_data ${p(c.userData)}) of registration ${showId(c)}, call ${k + 1}`;
            if (h === 0n) throw new Violation(call, 'NULL', 'a non-null PackActorHandle*');
            if (keptHandles.includes(h)) throw new Violation(call, `${p(h)}, a handle it returned before (still alive: the host never frees handles)`, 'a fresh handle on every call');
            keptHandles.push(h);
          }
        }
      } finally {
        unload(ctx, host);
      }
    }, ctx),
};

export const dropFrees: NativeProperty = {
  id: 'vtable.drop.frees',
  skipReason: trackerSkip,
  check: (ctx) =>
    runOnce(() => {
      const host = acceptAllHost(seqOf(ctx));
      registerWith(ctx, host, 'accept everything');
      const tracked = host.accepted().filter((c) => c.userDataSeq !== 0n);
      // drop cannot be checked on a registration without one, or on a user_data the pack already freed.
      const noDrop = host.accepted().find((c) => c.drop === 0n);
      if (noDrop) throw new StepBroken('vtable.register.args', `register_template call #${noDrop.index + 1} (id ${showId(noDrop)})`, 'it passed a NULL drop, so drop(user_data) cannot be called');
      const gone = freedByPack(ctx, host)[0];
      if (gone) throw new StepBroken('vtable.register.keep-accepted', `${ctx.pack.entrypoint}(vtable) with an accept-all host`, `the pack freed the accepted user_data ${p(gone.userData)} of ${showId(gone)} (allocation #${gone.userDataSeq}) before register returned, so drop has nothing left to free`);
      ctx.tracker!.enable();
      try {
        ctx.enter('drop', `drop(user_data) of the ${host.accepted().length} accepted registrations (unload)`);
        host.unload(ctx.pack);
      } finally {
        ctx.tracker!.disable();
      }
      const stray = strayFrees(ctx);
      if (stray) throw new Violation('drop(user_data) of every accepted registration', stray, 'each user_data freed exactly once');
      for (const c of tracked) {
        const frees = ctx.tracker!.freeCount(c.userDataSeq);
        if (frees !== 1 || ctx.tracker!.isLive(c.userDataSeq))
          throw new Violation(`drop(user_data ${p(c.userData)}) of registration ${showId(c)}`, `allocation #${c.userDataSeq} freed ${frees} time(s)${ctx.tracker!.isLive(c.userDataSeq) ? ', still allocated' : ''}`, 'the user_data allocation freed exactly once');
      }
    }, ctx),
};

/**
 * vtable.register.deterministic: its check needs two loads in two fresh
 * processes, which only the runner can make; it hands both accept-all
 * baselines here, and the judgement stays with the family.
 */
export const DETERMINISTIC = 'vtable.register.deterministic' satisfies VtablePropertyId;
export function judgeDeterministic(entrypoint: string, first: Baseline, second: Baseline): Outcome {
  const a = JSON.stringify(first.ids);
  const b = JSON.stringify(second.ids);
  if (a === b) return { status: 'passed', runs: 2, reached: 2 };
  return { status: 'failed', runs: 2, reached: 2, violation: { call: `${entrypoint}(vtable) with an accept-all host, in two fresh processes`, got: `registrations ${a} in the first, ${b} in the second`, expected: 'the same ids in the same order' }, message: `${entrypoint}(vtable) with an accept-all host, in two fresh processes\n    returned: registrations ${a} in the first, ${b} in the second\n    expected: the same ids in the same order` };
}

export const NATIVE_BATTERY: readonly Defined<NativeProperty>[] = [
  nativeVersionStable,
  nativeVersionExpected,
  shapeSymbols,
  nullHost,
  hostData,
  registerArgs,
  statusOk,
  stickyStatus,
  continues,
  reclaim,
  keepAccepted,
  uniqueIds,
  factoryHandle,
  dropFrees,
].map((p) => defineProperty('vtable', p));
