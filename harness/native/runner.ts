// Checks a native (vtable ABI) pack. The pack runs in a child process, with
// the allocation tracker preloaded where it can be built. A signal or abort
// in the pack fails the property in progress and adds `harness.crash` naming
// the signal and the call in progress; a call past --timeout-ms is killed and
// reported as `harness.timeout`. The next property gets a fresh child.
import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LoadError, type PackFile } from '../pack-file.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector, SURVEY } from '../results.ts';
import { selectFrom } from '../runner.ts';
import { trackerEnv } from './alloc-tracker.ts';
import type { FromChild, ToChild } from './child.ts';
import { DEFAULT_ENTRYPOINT } from './vtable-host.ts';
import { VTABLE_PROPERTY_IDS } from '../../properties/catalog.ts';
import type { CheckOptions, Outcome } from '../../properties/types.ts';
import type { Baseline } from '../../properties/vtable.ts';

export interface NativeRunnerOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  entrypoint?: string;
  onResult?: (r: PropertyResult) => void;
}

const ENTRY = new URL('./child-entry.mjs', import.meta.url);
const POLL_MS = 50;

type Answer = FromChild | { type: 'crash'; why: string } | { type: 'timeout'; why: string };

class NativeChild {
  private readonly proc: ChildProcess;
  private inCall: string | null = null;
  private lastCall = 'none yet';
  private since = 0;
  private stderrTail = '';
  private pending: ((a: Answer) => void) | null = null;
  dead = false;

  constructor(env: Record<string, string>, private readonly timeoutMs: number) {
    this.proc = fork(ENTRY, [], { env: { ...process.env, ...env }, execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'] });
    let buf = '';
    (this.proc.stdio[4] as Readable).on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('E ')) {
          this.inCall = this.lastCall = line.slice(2);
          this.since = performance.now();
        } else this.inCall = null;
      }
    });
    (this.proc.stderr as Readable).on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-600)));
    this.proc.on('message', (m: FromChild) => this.settle(m));
    this.proc.on('exit', (code, signal) => {
      this.dead = true;
      const last = this.stderrTail.trim().split('\n').filter(Boolean).pop();
      const how = signal ? `the pack killed its process with ${signal}` : `the pack's process exited with code ${code}`;
      this.settle({ type: 'crash', why: `${how} during ${this.inCall ?? this.lastCall}${last ? ` (stderr: ${last.trim()})` : ''}` });
    });
  }

  private settle(a: Answer) {
    const p = this.pending;
    this.pending = null;
    p?.(a);
  }

  ask(msg: ToChild): Promise<Answer> {
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (this.inCall !== null && performance.now() - this.since > this.timeoutMs) {
          clearInterval(timer);
          const call = this.inCall;
          this.pending = null;
          this.kill();
          resolve({ type: 'timeout', why: `${call} did not return within ${this.timeoutMs} ms (--timeout-ms); its process was killed and the check went on` });
        }
      }, POLL_MS);
      this.pending = (a) => {
        clearInterval(timer);
        resolve(a);
      };
      if (this.dead) this.settle({ type: 'crash', why: 'the process had already ended' });
      else this.proc.send(msg);
    });
  }

  kill() {
    this.dead = true;
    this.proc.kill('SIGKILL');
  }
}

export async function checkNativePack(file: PackFile, opts: NativeRunnerOptions): Promise<PackReport> {
  const t0 = performance.now();
  if (process.platform !== 'linux' && process.platform !== 'darwin') throw new LoadError(`${file.path}: native packs are checked on Linux (and, untested, macOS) only`);
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const entrypoint = opts.entrypoint ?? DEFAULT_ENTRYPOINT;
  const results = new ResultCollector(file.path, options, opts.onResult, entrypoint === DEFAULT_ENTRYPOINT ? [] : ['--entrypoint', entrypoint]);
  const env = trackerEnv();
  const childEnv = 'missing' in env ? {} : env;
  const ids = selectFrom(VTABLE_PROPERTY_IDS, opts.only, opts.skip);
  const init: ToChild = { type: 'init', path: file.path, entrypoint, options };

  /** A fresh child, loaded and baselined; or the outcome that stopped it. */
  const start = async (): Promise<{ child: NativeChild; ready: Extract<FromChild, { type: 'ready' }> } | { failure: Answer }> => {
    const child = new NativeChild(childEnv, opts.timeoutMs);
    const a = await child.ask(init);
    if (a.type === 'ready') return { child, ready: a };
    child.kill();
    return { failure: a };
  };

  let abiVersion: number | null = null;
  let baseline: Baseline | null = null;
  let current: NativeChild | null = null;
  const first = await start();
  if ('failure' in first) {
    const f = first.failure;
    if (f.type === 'load-error') {
      for (const id of ids) {
        if (id === 'vtable.shape.symbols') results.record(id, { status: 'failed', runs: 1, message: `loading ${file.path}: ${f.message}` }, 0);
        else results.record(id, { status: 'skipped', runs: 0, message: 'the pack could not be loaded with its symbols (see vtable.shape.symbols)' }, 0);
      }
    } else {
      const why = 'why' in f ? f.why : 'unexpected answer';
      results.record(f.type === 'timeout' ? 'harness.timeout' : 'harness.crash', { status: 'failed', runs: 1, message: `while surveying the pack (load, ABI version, accept-all registration): ${why}` }, 0, SURVEY);
      for (const id of ids) results.record(id, { status: 'failed', runs: 0, message: `not evaluated: the pack ${f.type === 'timeout' ? 'hung' : 'crashed'} on its first registration (see the harness result)` }, 0);
    }
  } else {
    current = first.child;
    abiVersion = first.ready.abiVersion;
    baseline = first.ready.baseline;
    for (const id of ids) {
      const started = performance.now();
      if (id === 'vtable.register.deterministic') {
        // Two loads in two fresh processes: the first child's baseline and a second child's.
        const second = await start();
        const took = performance.now() - started;
        if ('failure' in second) recordFailure(results, id, second.failure, took);
        else {
          second.child.kill();
          const a = JSON.stringify(baseline.ids);
          const b = JSON.stringify(second.ready.baseline.ids);
          results.record(id, a === b ? { status: 'passed', runs: 2 } : { status: 'failed', runs: 2, message: `${entrypoint}(vtable) with an accept-all host, in two fresh processes\n    returned: registrations ${a} in the first, ${b} in the second\n    expected: the same ids in the same order` }, took);
        }
        continue;
      }
      if (!current || current.dead) {
        const s = await start();
        if ('failure' in s) {
          recordFailure(results, id, s.failure, performance.now() - started);
          continue;
        }
        current = s.child;
      }
      const a = await current.ask({ type: 'property', id });
      const took = performance.now() - started;
      if (a.type === 'result') results.record(id, a.outcome, a.durationMs);
      else recordFailure(results, id, a, took);
    }
    current?.kill();
  }

  const templates = (baseline?.ids ?? []).map((name, factoryId) => ({ name: name ?? '<not UTF-8>', factoryId, inports: [], outports: [] }));
  const pack = { path: file.path, sha256: file.sha256, abi: 'vtable' as const, abiVersion, templates, imports: [] };
  return packReport(pack, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered(ids), t0);
}

function recordFailure(results: ResultCollector, id: string, a: Answer, took: number): void {
  const why = 'why' in a ? a.why : a.type === 'load-error' ? a.message : 'the child answered out of turn';
  const outcome: Outcome = { status: 'failed', runs: 0, message: a.type === 'timeout' ? `the pack hung: ${why}` : `the pack crashed: ${why}` };
  results.record(id, outcome, took);
  results.record(a.type === 'timeout' ? 'harness.timeout' : 'harness.crash', { status: 'failed', runs: 1, message: `during ${id}: ${why}` }, took, id);
}
