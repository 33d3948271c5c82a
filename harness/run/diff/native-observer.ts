// The child-process side of a native diff: it holds one build (dlopen'ed
// through koffi, the allocation tracker preloaded where it builds) and
// registers it under the mock-host schedules the parent generates, then
// unloads, reporting per registration who freed user_data. Before each pack
// call it writes the call to fd 4 (the kernel's line marker), so the parent
// names the call a crash or hang happened in.
import { writeSync } from 'node:fs';
import koffi from 'koffi';
import { AllocTracker } from '../../hosts/native/alloc-tracker.ts';
import { loadNativePack, type NativePack } from '../../hosts/native/vtable-host.ts';
import { failureInjectingHost, type MockVtableHost } from '../../hosts/native/mock-hosts.ts';
import type { VtableRegistration } from '../../hosts/native/vtable-ledger.ts';
import type { RegistrationSeen, TemplateCallSeen } from './observation.ts';

export type ToNativeObserver = { type: 'load'; path: string; entrypoint: string } | { type: 'register'; schedule: [number, number][]; hostData: string };
export type FromNativeObserver =
  | { type: 'loaded'; abiVersion: number; trackerMissing: string | null }
  | { type: 'load-error'; message: string }
  | { type: 'registered'; seen: RegistrationSeen };

const MARKER_FD = 4;
const note = (line: string) => writeSync(MARKER_FD, `${line.replaceAll('\n', ' ')}\n`);

/** The parent's watchdog learns of the call first, so a call that never returns is still named. */
function marked<T>(kind: string, call: string, f: () => T): T {
  note(`E ${kind}\t${call}`);
  try {
    return f();
  } finally {
    note('L');
  }
}

// A pack call may block the event loop for good: the kernel's SIGKILL on the parent's death needs none.
process.on('disconnect', () => process.exit(1));
if (process.platform === 'linux') {
  const PR_SET_PDEATHSIG = 1;
  const prctl = koffi.load('libc.so.6').func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)') as (...a: number[]) => number;
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (Number(process.env.PACKCHECK_PARENT_PID) && process.ppid !== Number(process.env.PACKCHECK_PARENT_PID)) process.exit(1);
}

let pack: NativePack | null = null;
let tracker: AllocTracker | null = null;
let trackerMissing: string | null = null;
const send = (m: FromNativeObserver): void => void process.send!(m);
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const idOf = (c: VtableRegistration) => {
  if (!c.idBytes) return null;
  try {
    return STRICT_UTF8.decode(c.idBytes);
  } catch {
    return `<not UTF-8: ${Buffer.from(c.idBytes).toString('hex')}>`;
  }
};

function load(path: string, entrypoint: string): void {
  try {
    pack = marked('dlopen', `dlopen(${path})`, () => loadNativePack(path, entrypoint));
  } catch (e) {
    return send({ type: 'load-error', message: (e as Error).message });
  }
  const t = AllocTracker.attach();
  if (t instanceof AllocTracker) tracker = t;
  else trackerMissing = t.missing;
  const p = pack;
  send({ type: 'loaded', abiVersion: marked('version', 'reflow_pack_abi_version()', () => p.abiVersion()), trackerMissing });
}

/** What the tracker says of one allocation: freed how often so far (null: not a block it saw allocated). */
function frees(c: VtableRegistration): number | null {
  if (!tracker || c.userDataSeq === 0n) return null;
  return tracker.freeCount(c.userDataSeq);
}

const times = (n: number) => (n === 1 ? 'once' : `${n} times`);

function register(schedule: [number, number][], hostData: bigint): RegistrationSeen {
  const p = pack!;
  const host: MockVtableHost = failureInjectingHost(new Map(schedule), (ptr) => tracker?.seqOf(ptr) ?? 0n, hostData);
  let status: number;
  tracker?.enable();
  try {
    status = marked('register', `${p.entrypoint}(vtable) with a host that answers ${JSON.stringify(schedule)}`, () => host.register(p));
  } finally {
    tracker?.disable();
  }
  const untracked = trackerMissing ? `not tracked (${trackerMissing})` : 'not tracked (user_data is not a block the allocation tracker saw allocated)';
  const calls: TemplateCallSeen[] = host.calls.map((c) => {
    const n = frees(c);
    let ownership: string;
    if (n === null) ownership = untracked;
    else if (c.answer !== 0) ownership = n === 0 ? 'rejected: never freed by the pack (leaked)' : `rejected: freed ${times(n)} by the pack`;
    else if (n > 0) ownership = `accepted: freed ${times(n)} by the pack before drop`;
    else ownership = 'accepted: kept';
    return { id: idOf(c), answer: c.answer, ownership };
  });
  // The unload: drop once per accepted registration the pack has not freed itself.
  const toDrop = host.calls.filter((c, i) => c.answer === 0 && c.drop !== 0n && !calls[i]!.ownership.includes('before drop'));
  for (const c of toDrop) {
    c.dropped = true;
    marked('drop', `drop(user_data) of ${JSON.stringify(idOf(c))}`, () => p.drop(c));
  }
  host.calls.forEach((c, i) => {
    const seen = calls[i]!;
    if (c.answer !== 0 || seen.ownership !== 'accepted: kept') return;
    if (c.drop === 0n) seen.ownership = 'accepted: no drop function (NULL)';
    else {
      const n = frees(c) ?? 0;
      seen.ownership = n === 0 ? 'accepted: kept, and drop did not free it' : `accepted: kept, freed ${times(n)} by drop`;
    }
  });
  return { status, calls };
}

process.on('message', (msg: ToNativeObserver) => {
  if (msg.type === 'load') return load(msg.path, msg.entrypoint);
  send({ type: 'registered', seen: register(msg.schedule, BigInt(msg.hostData)) });
});

// Started: the parent's start-up allowance ends here.
note('L');
