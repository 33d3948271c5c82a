// The child process that holds a native pack. Before every pack call it
// writes the call to fd 4 synchronously ("E <call>", then "L" after), so
// the parent can name the call in progress if the pack kills the process or
// hangs. Requests and results travel over the IPC channel.
import { writeSync } from 'node:fs';
import { messageOf, type CheckOptions, type Outcome } from '../../properties/types.ts';
import { NATIVE_BATTERY, idText, type Baseline, type NativeContext } from '../../properties/vtable.ts';
import { acceptAllHost } from '../../mocks/vtable-hosts.ts';
import { AllocTracker } from './alloc-tracker.ts';
import { loadNativePack, type NativePack } from './vtable-host.ts';
import type { VtablePropertyId } from '../../properties/catalog.ts';

export type ToChild = { type: 'init'; path: string; entrypoint: string; options: CheckOptions } | { type: 'property'; id: VtablePropertyId };
export type FromChild =
  | { type: 'ready'; baseline: Baseline; abiVersion: number; trackerMissing: string | null }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: VtablePropertyId; outcome: Outcome; durationMs: number };

const CALLS_FD = 4;
let pending = 'a pack call';
const mark = (line: string) => writeSync(CALLS_FD, `${line.replaceAll('\n', ' ')}\n`);

/** The pack with every native call reported to the parent before it is made. */
function guarded(pack: NativePack): NativePack {
  const around = <T>(f: () => T): T => {
    mark(`E ${pending}`);
    try {
      return f();
    } finally {
      mark('L');
    }
  };
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
const send = (m: FromChild) => process.send!(m);

process.on('message', (msg: ToChild) => {
  if (msg.type === 'init') {
    let pack: NativePack;
    try {
      pack = guarded(loadNativePack(msg.path, msg.entrypoint));
    } catch (e) {
      send({ type: 'load-error', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    const t = AllocTracker.attach();
    const tracker = t instanceof AllocTracker ? t : null;
    const trackerMissing = t instanceof AllocTracker ? null : t.missing;
    pending = 'reflow_pack_abi_version()';
    const abiVersion = pack.abiVersion();
    const host = acceptAllHost(tracker ? (p) => tracker.seqOf(p) : undefined);
    pending = `${pack.entrypoint}(vtable) with an accept-all host (the baseline registration)`;
    tracker?.enable();
    const status = pack.register(host.hostData, host.handle);
    tracker?.disable();
    const baseline: Baseline = {
      status,
      ids: host.calls.map((c) => idText(c.idBytes)),
      userDataTracked: host.accepted().length > 0 && host.accepted().every((c) => c.userDataSeq !== 0n),
    };
    pending = 'drop(user_data) of the baseline registrations';
    host.unload(pack);
    ctx = { pack, options: msg.options, tracker, trackerMissing, baseline, firstAbiVersion: abiVersion, enter: (call) => (pending = call) };
    send({ type: 'ready', baseline, abiVersion, trackerMissing });
    return;
  }
  const t0 = performance.now();
  const prop = NATIVE_BATTERY.find((q) => q.id === msg.id)!;
  let outcome: Outcome;
  try {
    const reason = prop.skipReason?.(ctx!) ?? null;
    outcome = reason ? { status: 'skipped', runs: 0, message: reason } : prop.check(ctx!);
  } catch (e) {
    outcome = { status: 'errored', runs: 0, message: messageOf(e) };
  }
  send({ type: 'result', id: msg.id, outcome, durationMs: performance.now() - t0 });
});
