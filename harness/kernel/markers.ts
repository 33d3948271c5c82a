// The kernel's two call markers (./sandbox.ts CallMarker): what the watchdog
// reads to tell a hang from a slow check and to name the call in progress.
import { Watchdog } from './call-guard.ts';
import type { CallMarker, InProgress } from './sandbox.ts';

/** Worker threads: the shared-memory guard (harness/kernel/call-guard.ts) the sandbox writes before every call. */
export class SharedMarker implements CallMarker {
  readonly watchdog: Watchdog;
  /** Words about the call in progress, when the sandbox sends them (an adapter call's arguments). */
  detail: string | null = null;
  constructor(buffer: SharedArrayBuffer) {
    this.watchdog = new Watchdog(buffer);
  }
  asking(): void {
    this.detail = null;
  }
  alive(): void {}
  overdue(now: number): InProgress | null {
    const late = this.watchdog.overdue(now);
    return late ? { call: late.call, args: late.args, budgetMs: late.budgetMs, ...(this.detail ? { detail: this.detail } : {}) } : null;
  }
  current(): InProgress | null {
    return this.detail ? { call: 'adapter call', detail: this.detail, budgetMs: 0 } : null;
  }
  /** fast-check runs the sandbox has done (progress). */
  runs(): number {
    return this.watchdog.runs();
  }
}

/**
 * Child processes: lines on a channel, `E <kind>\t<call>` before a call and
 * `L` after. The process start counts as a call until the first line; a
 * child silent past the limit between calls is overdue too (it never answers).
 */
export class LineMarker implements CallMarker {
  private inCall: { kind: string; call: string } | null;
  private last: { kind: string; call: string } | null = null;
  private since = performance.now();

  constructor(
    private readonly timeoutMs: number,
    /** Extra time for the process start and for silence between calls. */
    private readonly graceMs: number,
    start: string,
  ) {
    this.inCall = { kind: 'start', call: start };
  }

  line(l: string): void {
    this.since = performance.now();
    if (l.startsWith('E ')) {
      const tab = l.indexOf('\t');
      this.inCall = this.last = { kind: l.slice(2, tab), call: l.slice(tab + 1) };
    } else this.inCall = null;
  }
  asking(): void {
    if (this.inCall === null) this.since = performance.now();
  }
  alive(): void {
    this.since = performance.now();
  }
  overdue(now: number): InProgress | null {
    const c = this.inCall;
    const limit = c && c.kind !== 'start' ? this.timeoutMs : this.timeoutMs + this.graceMs;
    if (now - this.since <= limit) return null;
    return c ? { call: c.call, kind: c.kind, budgetMs: limit } : { call: 'no call (the process did not answer)', budgetMs: limit, idle: true };
  }
  current(): InProgress | null {
    const c = this.inCall ?? this.last;
    return c ? { call: c.call, kind: c.kind, budgetMs: this.timeoutMs } : null;
  }
  /** The call in progress right now (not the last one). */
  inProgress(): { kind: string; call: string } | null {
    return this.inCall;
  }
}
