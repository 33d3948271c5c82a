// The child process that holds a native pack. Before every pack call it
// writes the call's kind and text to fd 4 synchronously ("E <kind>\t<call>",
// then "L" after), so the parent can name (and attribute) the call in
// progress if the pack kills the process or hangs; dlopen itself is such a
// call, so a constructor that hangs or crashes is caught too. Requests and
// results travel over the IPC channel. The process dies with its parent,
// even while a pack call blocks its event loop (PR_SET_PDEATHSIG).
import { writeSync } from 'node:fs';
import koffi from 'koffi';
import { messageOf, withId, type CheckOptions, type Outcome } from '../../properties/types.ts';
import { NATIVE_BATTERY, baselineDrop, baselineRegistration, type Baseline, type NativeContext } from '../../properties/vtable.ts';
import type { MockVtableHost } from '../hosts/native/mock-hosts.ts';
import { AllocTracker } from '../hosts/native/alloc-tracker.ts';
import type { CallKind, NativeStep } from './native-plan.ts';
import { MissingSymbol, bindPack, openLibrary, type NativePack } from '../hosts/native/vtable-host.ts';
import type { VtablePropertyId } from '../../properties/catalog.ts';

export type ToChild =
  /** dlopen and symbol lookup; `dropBroken`: an earlier process saw the baseline drop break. */
  | { type: 'load'; path: string; entrypoint: string; options: CheckOptions; dropBroken: boolean }
  | { type: 'step'; step: Extract<NativeStep, 'version' | 'register' | 'drop'> }
  | { type: 'property'; id: VtablePropertyId };
export type FromChild =
  | { type: 'loaded'; trackerMissing: string | null }
  | { type: 'load-error'; step: 'dlopen' | 'symbols'; message: string }
  | { type: 'step-done'; step: NativeStep; abiVersion?: number; baseline?: Baseline }
  | { type: 'result'; id: VtablePropertyId; outcome: Outcome; durationMs: number };

const CALLS_FD = 4;
const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;
const mark = (line: string) => writeSync(CALLS_FD, `${line.replaceAll('\n', ' ')}\n`);

/** Dies with the parent: the kernel sends SIGKILL, which needs no event loop (a pack call may be blocking it). */
function dieWithParent(): void {
  process.on('disconnect', () => process.exit(1));
  if (process.platform !== 'linux') return;
  const prctl = koffi.load('libc.so.6').func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as (...a: number[]) => number;
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The parent may have died before prctl: then this process was already handed to another.
  const parent = Number(process.env.PACKCHECK_PARENT_PID);
  if (parent && process.ppid !== parent) process.exit(1);
}
dieWithParent();

let pending: { kind: CallKind; call: string } = { kind: 'start', call: 'a pack call' };

/** Reports the call before making it, and its end after. */
function around<T>(f: () => T): T {
  mark(`E ${pending.kind}\t${pending.call}`);
  try {
    return f();
  } finally {
    mark('L');
  }
}

/** The pack with every native call reported to the parent before it is made. */
function guarded(pack: NativePack): NativePack {
  return {
    path: pack.path,
    entrypoint: pack.entrypoint,
    abiVersion: () => around(() => pack.abiVersion()),
    register: (hd, handler) => around(() => pack.register(hd, handler)),
    factory: (c) => around(() => pack.factory(c)),
    drop: (c) => around(() => pack.drop(c)),
  };
}

let ctx: NativeContext | null = null;
let baselineHost: MockVtableHost | null = null;
const send = (m: FromChild) => process.send!(m);
const enter = (kind: CallKind, call: string) => (pending = { kind, call });

function load(msg: Extract<ToChild, { type: 'load' }>): void {
  let lib;
  try {
    enter('dlopen', `dlopen(${msg.path})`);
    lib = around(() => openLibrary(msg.path));
  } catch (e) {
    send({ type: 'load-error', step: 'dlopen', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  let pack: NativePack;
  try {
    pack = guarded(bindPack(lib, msg.path, msg.entrypoint));
  } catch (e) {
    if (!(e instanceof MissingSymbol)) throw e;
    send({ type: 'load-error', step: 'symbols', message: e.message });
    return;
  }
  const t = AllocTracker.attach();
  const tracker = t instanceof AllocTracker ? t : null;
  const trackerMissing = t instanceof AllocTracker ? null : t.missing;
  ctx = { pack, options: msg.options, tracker, trackerMissing, baseline: null, firstAbiVersion: null, dropBroken: msg.dropBroken, enter };
  send({ type: 'loaded', trackerMissing });
}

process.on('message', (msg: ToChild) => {
  if (msg.type === 'load') return load(msg);
  const c = ctx!;
  if (msg.type === 'step') {
    if (msg.step === 'version') {
      enter('version', 'reflow_pack_abi_version()');
      c.firstAbiVersion = c.pack.abiVersion();
      return send({ type: 'step-done', step: 'version', abiVersion: c.firstAbiVersion });
    }
    if (msg.step === 'register') {
      const { host, baseline } = baselineRegistration(c);
      baselineHost = host;
      c.baseline = baseline;
      return send({ type: 'step-done', step: 'register', baseline });
    }
    if (baselineHost) baselineDrop(c, baselineHost);
    return send({ type: 'step-done', step: 'drop' });
  }
  const t0 = performance.now();
  const prop = NATIVE_BATTERY.find((q) => q.id === msg.id)!;
  let outcome: Outcome;
  try {
    const reason = prop.skipReason?.(c) ?? null;
    outcome = reason ? { status: 'skipped', runs: 0, message: reason } : prop.check(withId(c, prop.id));
  } catch (e) {
    outcome = { status: 'errored', runs: 0, message: messageOf(e) };
  }
  send({ type: 'result', id: msg.id, outcome, durationMs: performance.now() - t0 });
});

// Alive and listening: the parent's start-up limit ends here.
mark('L');
