// One native build of a diff, held in a child process on the execution
// kernel (child transport, line marker): a build that segfaults, aborts or
// hangs in a pack call ends only its process; that registration's answer says
// so, and the next one gets a fresh process.
import { LineMarker } from '../../kernel/markers.ts';
import { Sandbox, type Verdict } from '../../kernel/sandbox.ts';
import { childTransport, type ChildTransport } from '../../kernel/transports.ts';
import { trackerEnv } from '../../hosts/native/alloc-tracker.ts';
import type { FromNativeObserver, ToNativeObserver } from './native-observer.ts';
import type { RegistrationSeen } from './observation.ts';

const ENTRY = new URL('./native-observer-entry.mjs', import.meta.url);
/** Node and tsx start-up on top of --timeout-ms, as the vtable battery allows. */
const START_GRACE_MS = 15000;

export type NativeLoad = { abiVersion: number; trackerMissing: string | null } | { problem: string };

export class NativeBuild {
  private child: { sandbox: Sandbox<ToNativeObserver, FromNativeObserver>; transport: ChildTransport<ToNativeObserver, FromNativeObserver>; marker: LineMarker; loaded: NativeLoad } | null = null;
  private readonly env: Record<string, string>;
  /** The tracker's absence, when it could not be preloaded (ownership is then not compared). */
  readonly trackerMissing: string | null;

  constructor(
    private readonly path: string,
    private readonly opts: { timeoutMs: number; entrypoint: string },
  ) {
    const env = trackerEnv();
    this.env = 'missing' in env ? {} : env;
    this.trackerMissing = 'missing' in env ? env.missing : null;
  }

  /** A child with the build loaded (a fresh one after a crash or hang), or why the build does not load. */
  private async live(): Promise<{ sandbox: Sandbox<ToNativeObserver, FromNativeObserver>; loaded: NativeLoad }> {
    if (this.child && !this.child.sandbox.dead) return { sandbox: this.child.sandbox, loaded: this.child.loaded };
    const marker = new LineMarker(this.opts.timeoutMs, START_GRACE_MS, 'the start of the process that holds the pack');
    const transport = childTransport<ToNativeObserver, FromNativeObserver>(ENTRY, { ...process.env, ...this.env, PACKCHECK_PARENT_PID: String(process.pid) }, (l) => marker.line(l));
    const sandbox = new Sandbox(transport, marker);
    this.child = { sandbox, transport, marker, loaded: { problem: 'not loaded yet' } };
    const v = await sandbox.ask({ type: 'load', path: this.path, entrypoint: this.opts.entrypoint });
    let loaded: NativeLoad;
    if (v.type === 'answer' && v.answer.type === 'loaded') loaded = { abiVersion: v.answer.abiVersion, trackerMissing: v.answer.trackerMissing };
    else {
      loaded = { problem: v.type === 'answer' && v.answer.type === 'load-error' ? v.answer.message : this.cut(v) };
      void sandbox.stop();
    }
    this.child.loaded = loaded;
    return { sandbox, loaded };
  }

  /** Loads the build in a fresh process: its ABI version, or why it does not load. */
  async load(): Promise<NativeLoad> {
    await this.stop();
    return (await this.live()).loaded;
  }

  async register(schedule: [number, number][], hostData: bigint): Promise<RegistrationSeen> {
    const { sandbox, loaded } = await this.live();
    if ('problem' in loaded) return { cut: `the build did not load: ${loaded.problem}`, stage: 'register' };
    const v = await sandbox.ask({ type: 'register', schedule, hostData: hostData.toString() });
    if (v.type === 'answer' && v.answer.type === 'registered') return v.answer.seen;
    const kind = v.type === 'timeout' ? v.call.kind : v.type === 'crash' ? v.call?.kind : null;
    return { cut: this.cut(v), stage: kind === 'drop' ? 'drop' : 'register' };
  }

  private cut(v: Verdict<FromNativeObserver>): string {
    if (v.type === 'timeout') return v.call.idle ? `the process did not answer within ${v.call.budgetMs} ms` : `hung: ${v.call.call} did not return within ${v.call.budgetMs} ms (--timeout-ms); its process was killed`;
    if (v.type === 'crash') {
      const tail = this.child?.transport.stderrLast();
      return `crashed: the process ${v.why} during ${v.call?.call ?? 'its start'}${tail ? ` (stderr: ${tail})` : ''}`;
    }
    return `answered out of turn (${v.answer.type})`;
  }

  async stop(): Promise<void> {
    await this.child?.sandbox.stop();
    this.child = null;
  }
}
