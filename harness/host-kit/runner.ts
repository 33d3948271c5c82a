// `packcheck host ADAPTER`: runs the host.* properties against a host
// adapter in a worker thread. An adapter call past --timeout-ms gets the
// worker terminated, the property failed and `harness.timeout` added; the
// next property runs in a fresh worker.
import { Worker } from 'node:worker_threads';
import { newGuardBuffer, Watchdog } from '../call-guard.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector } from '../results.ts';
import { selectFrom } from '../runner.ts';
import type { FromHostWorker, HostWorkerInit, ToHostWorker } from './worker.ts';
import { HOST_PROPERTY_IDS, type HostPropertyId } from '../../properties/catalog.ts';
import type { CheckOptions, Outcome } from '../../properties/types.ts';

export interface HostRunnerOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  onResult?: (r: PropertyResult) => void;
}

/** A host check's report@1: `"host": {"path"}` in place of `"pack"`. */
export type HostReport = Omit<PackReport, 'pack'> & { host: { path: string } };

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);
const POLL_MS = 50;

type Answer = { type: 'result'; outcome: Outcome; durationMs: number } | { type: 'timeout' | 'died'; why: string };

class HostWorker {
  private readonly worker: Worker;
  private readonly watchdog: Watchdog;
  private lastCall = 'the adapter';
  private pending: ((a: Answer) => void) | null = null;
  dead = false;

  constructor(init: Omit<HostWorkerInit, 'guardBuffer'>) {
    const guardBuffer = newGuardBuffer();
    this.watchdog = new Watchdog(guardBuffer);
    this.worker = new Worker(ENTRY, { workerData: { ...init, guardBuffer } satisfies HostWorkerInit, stdout: true, stderr: true });
    this.worker.on('message', (m: FromHostWorker) => {
      if (m.type === 'call') this.lastCall = m.detail;
      else this.settle({ type: 'result', outcome: m.outcome, durationMs: m.durationMs });
    });
    this.worker.on('error', (e) => this.settle({ type: 'died', why: `the adapter crashed its worker: ${e.name}: ${e.message}` }));
    this.worker.on('exit', (code) => this.settle({ type: 'died', why: `the adapter's worker exited with code ${code}` }));
  }

  private settle(a: Answer) {
    if (a.type !== 'result') this.dead = true;
    const p = this.pending;
    this.pending = null;
    p?.(a);
  }

  ask(msg: ToHostWorker): Promise<Answer> {
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        const late = this.watchdog.overdue(performance.now());
        if (!late) return;
        clearInterval(timer);
        this.pending = null;
        this.dead = true;
        void this.worker.terminate();
        resolve({ type: 'timeout', why: `the adapter call ${this.lastCall} did not settle within ${late.budgetMs} ms (--timeout-ms); its worker was stopped and the check went on` });
      }, POLL_MS);
      this.pending = (a) => {
        clearInterval(timer);
        resolve(a);
      };
      this.worker.postMessage(msg);
    });
  }

  stop() {
    this.dead = true;
    return this.worker.terminate();
  }
}

export async function checkHost(adapterPath: string, opts: HostRunnerOptions): Promise<HostReport> {
  const t0 = performance.now();
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const results = new ResultCollector(adapterPath, options, opts.onResult, [], 'host');
  const ids = selectFrom(HOST_PROPERTY_IDS, opts.only, opts.skip);
  let w: HostWorker | null = null;
  for (const id of ids as HostPropertyId[]) {
    if (!w || w.dead) w = new HostWorker({ adapterPath, options });
    const started = performance.now();
    const a = await w.ask({ type: 'property', id });
    const took = performance.now() - started;
    if (a.type === 'result') results.record(id, a.outcome, a.durationMs);
    else {
      results.record(id, { status: 'failed', runs: 0, message: a.type === 'timeout' ? `the host hung: ${a.why}` : a.why }, took);
      results.record(a.type === 'timeout' ? 'harness.timeout' : 'harness.crash', { status: 'failed', runs: 1, message: `during ${id}: ${a.why}` }, took, id);
    }
  }
  await w?.stop();
  const { pack: _pack, ...rest } = packReport({ path: adapterPath, sha256: '', abi: null, abiVersion: null, templates: [], imports: [] }, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered(ids), t0);
  return { ...rest, host: { path: adapterPath } };
}
