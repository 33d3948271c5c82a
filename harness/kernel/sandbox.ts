// The execution kernel: every check runs pack (or adapter) code in a
// sandbox (a worker thread or a child process) and asks it one question at
// a time. An answer comes back, or the watchdog sees the call in progress
// overrun its budget (the sandbox is killed: a timeout), or the sandbox dies
// (a crash). The wasm battery, the vtable battery and the JS host kit all
// run on this one class; they differ only in their transport and marker.

/** The call the sandbox is in, as its marker saw it. */
export interface InProgress {
  /** The call, as the marker names it (`__reflow_pack_actor_run`, `dlopen(…)`, an adapter call…). */
  call: string;
  /** What kind of call it is, where the marker knows (the native child reports it). */
  kind?: string;
  /** Numeric arguments, where the marker carries them (shared-memory guard). */
  args?: number[];
  /** Extra words about the call (an adapter call's arguments). */
  detail?: string;
  /** The budget it overran. */
  budgetMs: number;
  /** No call was in progress: the sandbox was silent past its budget (a child that never answers). */
  idle?: boolean;
}

/** Tells the watchdog which call the sandbox is in: shared memory for threads, a line channel for processes. */
export interface CallMarker {
  /** Called as a question is sent (a marker may start a silence clock). */
  asking(): void;
  /** Any sign of life from the sandbox (an answer, a message). */
  alive(): void;
  /** The call in progress when it has overrun its budget. */
  overdue(now: number): InProgress | null;
  /** The call in progress (or the last one seen), to name a crash. */
  current(): InProgress | null;
}

/** How questions and answers travel, and how the sandbox ends. */
export interface Transport<Q, A> {
  send(q: Q): void;
  /** Messages from the sandbox: answers, or marker news (which the transport may consume itself). */
  onMessage(f: (m: A) => void): void;
  /** The sandbox ended on its own: why, in words. */
  onDeath(f: (why: string) => void): void;
  kill(): Promise<unknown> | void;
  /** Ends an idle sandbox gently (it may still be killed if it lingers); kill when absent. */
  end?(): Promise<unknown> | void;
}

export type Verdict<A> = { type: 'answer'; answer: A } | { type: 'timeout'; call: InProgress } | { type: 'crash'; why: string; call: InProgress | null };

const POLL_MS = 50;

export class Sandbox<Q, A> {
  private pending: ((v: Verdict<A>) => void) | null = null;
  dead = false;
  /** Called on every poll while a question is out (progress lines). */
  onPoll?: () => void;

  constructor(
    private readonly transport: Transport<Q, A>,
    readonly marker: CallMarker,
  ) {
    transport.onMessage((m) => {
      marker.alive();
      this.settle({ type: 'answer', answer: m });
    });
    transport.onDeath((why) => {
      this.dead = true;
      this.settle({ type: 'crash', why, call: marker.current() });
    });
  }

  private settle(v: Verdict<A>): void {
    const p = this.pending;
    this.pending = null;
    p?.(v);
  }

  /** One question; resolves with the answer, the call that overran (the sandbox is then killed), or the crash. */
  ask(q: Q): Promise<Verdict<A>> {
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        this.onPoll?.();
        const late = this.marker.overdue(performance.now());
        if (!late) return;
        clearInterval(timer);
        this.pending = null;
        this.dead = true;
        void this.transport.kill();
        resolve({ type: 'timeout', call: late });
      }, POLL_MS);
      this.pending = (v) => {
        clearInterval(timer);
        resolve(v);
      };
      if (this.dead) return this.settle({ type: 'crash', why: 'the sandbox had already ended', call: this.marker.current() });
      this.marker.asking();
      this.transport.send(q);
    });
  }

  /** The sandbox is no longer needed: ended gently when idle, killed when a call is still out. */
  async stop(): Promise<void> {
    const idle = !this.pending && !this.dead;
    this.dead = true;
    await (idle && this.transport.end ? this.transport.end() : this.transport.kill());
  }
}

/**
 * Runs `ids` on `lanes` lanes side by side, in order: the one scheduler of
 * every battery (a lane owns one sandbox at a time).
 */
export async function schedule<T>(ids: T[], lanes: number, run: (id: T, lane: number) => Promise<void>): Promise<void> {
  const queue = [...ids];
  const lane = async (i: number) => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await run(id, i);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, ids.length)) }, (_, i) => lane(i)));
}
