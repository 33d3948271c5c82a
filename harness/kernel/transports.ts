// The two transports of the kernel's sandbox (./sandbox.ts): a worker thread
// (wasm packs and JS host adapters: cheap, killed by terminate) and a child
// process (native packs: a segfault takes only it down).
import { fork } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { track } from './lifeline.ts';
import type { Transport } from './sandbox.ts';

/** A worker thread; `route` may consume marker news (returns false) before it is taken for an answer. */
export function workerTransport<Q, A>(url: URL, options: WorkerOptions, route: (m: A) => boolean = () => true): Transport<Q, A> {
  const worker = new Worker(url, options);
  return {
    send: (q) => worker.postMessage(q),
    onMessage: (f) => worker.on('message', (m: A) => route(m) && f(m)),
    onDeath: (f) => {
      worker.on('error', (e) => f(`${e.name}: ${e.message}`));
      worker.on('exit', (code) => f(`the worker exited with code ${code}`));
    },
    kill: () => worker.terminate(),
  };
}

export interface ChildTransport<Q, A> extends Transport<Q, A> {
  readonly pid: number | undefined;
  /** The last line the child wrote to stderr (a panic message, an abort's reason). */
  stderrLast(): string | null;
}

/**
 * A child process with an IPC channel for questions and answers, fd 4 for
 * the marker's lines (written synchronously before each call, so they arrive
 * even when the call never returns), and its stderr tail kept for crash messages.
 */
export function childTransport<Q, A>(url: URL, env: NodeJS.ProcessEnv, onLine: (line: string) => void): ChildTransport<Q, A> {
  const proc = track(fork(url, [], { env, execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'] }));
  let buf = '';
  (proc.stdio[4] as Readable).on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  let stderrTail = '';
  (proc.stderr as Readable).on('data', (d: Buffer) => (stderrTail = (stderrTail + d.toString('utf8')).slice(-600)));
  return {
    pid: proc.pid,
    send: (q) => proc.send(q as object),
    onMessage: (f) => proc.on('message', (m) => f(m as A)),
    onDeath: (f) => proc.on('exit', (code, signal) => f(signal ? `killed with ${signal}` : `exited with code ${code}`)),
    stderrLast: () => stderrTail.trim().split('\n').filter(Boolean).pop()?.trim() ?? null,
    kill: () => void proc.kill('SIGKILL'),
    // Idle: the channel is closed and the child exits on its own (running
    // its exit hooks: Node's coverage, the pack's destructors); one that
    // lingers past the grace is killed all the same.
    end: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null || !proc.connected) {
          proc.kill('SIGKILL');
          return done();
        }
        const grace = setTimeout(() => proc.kill('SIGKILL'), END_GRACE_MS);
        proc.once('exit', () => {
          clearTimeout(grace);
          done();
        });
        proc.disconnect();
      }),
  };
}

/** How long an idle child may take to exit after its channel closes. */
const END_GRACE_MS = 1000;
