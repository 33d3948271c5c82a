// packcheck never outlives its caller. On SIGTERM, SIGINT or SIGHUP, or when
// the process that started it is gone (a CI job's timeout kills the shell,
// not us), it hands what it has to the current run's `onEnd` (which writes
// the partial report), ends the child processes it started, and exits.
// Worker threads end with the process; native children also have a parent-
// death signal of their own (harness/run/native-child.ts), since a child stuck
// in a pack call cannot listen for anything.
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let onEnd: ((why: string) => void) | null = null;
let armed = false;
const POLL_MS = 500;

/** A child process to end with us. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function end(why: string, code: number): never {
  try {
    onEnd?.(why);
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
  process.exit(code);
}

/**
 * Arms the lifeline for a run; `writePartial` is called once, synchronously,
 * with the reason, before the process exits. Returns the disarm function.
 */
export function lifeline(writePartial: (why: string) => void): () => void {
  onEnd = writePartial;
  if (!armed) {
    armed = true;
    // The parent as bin/packcheck.js saw it at start, before any import: a caller killed meanwhile still counts.
    const parent = ((globalThis as Record<symbol, unknown>)[Symbol.for('packcheck.parent')] as number | undefined) ?? process.ppid;
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => end(`packcheck received ${sig}`, 1));
    // A reparented process (its parent died) sees another ppid, usually 1 or a subreaper.
    setInterval(() => {
      if (process.ppid !== parent) end(`the process that started packcheck (pid ${parent}) is gone`, 1);
    }, POLL_MS).unref();
  }
  return () => {
    if (onEnd === writePartial) onEnd = null;
  };
}
