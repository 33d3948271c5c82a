// `packcheck host ADAPTER`: runs the host.* properties against a host
// adapter in a worker thread. `host.load.conforming` runs first, always (even
// when --only/--skip leave it out): when the host cannot load the plain echo
// probe, every other host id is blocked by it instead of run. An adapter call
// past --timeout-ms gets the worker terminated and `harness.timeout` added;
// the property fails too when the call cut off was a step it checks, and is
// blocked by the harness result otherwise. The next property runs in a fresh
// worker.
import { Worker } from 'node:worker_threads';
import { newGuardBuffer } from '../kernel/call-guard.ts';
import { SharedMarker } from '../kernel/markers.ts';
import { Sandbox, schedule } from '../kernel/sandbox.ts';
import { workerTransport } from '../kernel/transports.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector } from './results.ts';
import { selectFrom } from './wasm-runner.ts';
import type { FromHostWorker, HostWorkerInit, ToHostWorker } from './host-worker.ts';
import { AdapterImportError } from '../hosts/js/adapter.ts';
import { StepBroken } from '../abi/errors.ts';
import { HOST_PROPERTY_IDS, type HostPropertyId } from '../../properties/catalog.ts';
import { blockedOutcome, type CheckOptions, type Outcome } from '../../properties/types.ts';

export interface HostRunnerOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  onResult?: (r: PropertyResult) => void;
}

/** A host check's report@1: `"host": {"path"}` in place of `"pack"`. */
export type HostReport = Omit<PackReport, 'pack'> & { host: { path: string } };

const ENTRY = new URL('./host-worker-entry.mjs', import.meta.url);

type Answer = { type: 'result'; outcome: Outcome; durationMs: number } | { type: 'timeout' | 'died'; why: string; checked: boolean } | { type: 'import-failed'; error: string };

const LOAD = 'host.load.conforming';

/** A worker thread holding the adapter, on the kernel (../kernel/sandbox.ts), answering in this runner's terms. */
class HostWorker {
  private readonly sandbox: Sandbox<ToHostWorker, FromHostWorker>;
  private readonly marker: SharedMarker;
  /** Whether the last adapter call is a step the running property checks. */
  private lastChecked = false;

  constructor(init: Omit<HostWorkerInit, 'guardBuffer'>) {
    const guardBuffer = newGuardBuffer();
    this.marker = new SharedMarker(guardBuffer);
    // The worker names each adapter call before making it: marker news, not an answer.
    const route = (m: FromHostWorker) => {
      if (m.type !== 'call') return true;
      this.marker.detail = m.detail;
      this.lastChecked = m.checked;
      return false;
    };
    this.sandbox = new Sandbox(workerTransport<ToHostWorker, FromHostWorker>(ENTRY, { workerData: { ...init, guardBuffer } satisfies HostWorkerInit, stdout: true, stderr: true }, route), this.marker);
  }

  get dead(): boolean {
    return this.sandbox.dead;
  }

  async ask(msg: ToHostWorker): Promise<Answer> {
    this.lastChecked = false;
    const v = await this.sandbox.ask(msg);
    const call = this.marker.detail ?? 'the adapter';
    if (v.type === 'timeout') return { type: 'timeout', why: `the adapter call ${call} did not settle within ${v.call.budgetMs} ms (--timeout-ms); its worker was stopped and the check went on`, checked: this.lastChecked };
    if (v.type === 'crash') {
      const why = v.why.startsWith('the worker exited') ? `the adapter's worker exited with code ${v.why.replace(/\D+/, '')} during ${call}` : `the adapter crashed its worker during ${call}: ${v.why}`;
      return { type: 'died', why, checked: this.lastChecked };
    }
    const m = v.answer;
    if (m.type === 'import-failed') {
      void this.sandbox.stop();
      return { type: 'import-failed', error: m.error };
    }
    if (m.type === 'call') throw new Error('unreachable: call messages are routed to the marker');
    return { type: 'result', outcome: m.outcome, durationMs: m.durationMs };
  }

  stop() {
    return this.sandbox.stop();
  }
}

/**
 * Tries to import the adapter the way the worker will (Node's own loader for
 * JavaScript, tsx for TypeScript), in a worker of its own: null when it
 * imports, else one line naming the module and the import error.
 */
export async function checkAdapterImport(adapterPath: string): Promise<string | null> {
  const worker = new Worker(ENTRY, { workerData: { mode: 'import-check', adapterPath }, stdout: true, stderr: true });
  try {
    return await new Promise<string | null>((resolve) => {
      worker.on('message', (m: { ok: boolean; error?: string }) => resolve(m.ok ? null : m.error!));
      worker.on('error', (e) => resolve(`${adapterPath}: the adapter module could not be imported: ${e.name}: ${String(e.message).split('\n')[0]}`));
      worker.on('exit', (code) => resolve(`${adapterPath}: the adapter module could not be imported (its worker exited with code ${code})`));
    });
  } finally {
    await worker.terminate();
  }
}

export async function checkHost(adapterPath: string, opts: HostRunnerOptions): Promise<HostReport> {
  const t0 = performance.now();
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const results = new ResultCollector(adapterPath, options, opts.onResult, [], 'host');
  const selected = selectFrom(HOST_PROPERTY_IDS, opts.only, opts.skip) as HostPropertyId[];
  let w: HostWorker | null = null;
  /** Runs one property; its outcome (and any harness result) recorded unless `quiet` and it passed. */
  const evaluate = async (id: HostPropertyId, record: (o: Outcome) => boolean): Promise<Outcome> => {
    if (!w || w.dead) w = new HostWorker({ adapterPath, options });
    const started = performance.now();
    const a = await w.ask({ type: 'property', id });
    const took = performance.now() - started;
    if (a.type === 'import-failed') {
      await w.stop();
      throw new AdapterImportError(a.error);
    }
    if (a.type === 'result') {
      if (record(a.outcome)) results.record(id, a.outcome, a.durationMs);
      return a.outcome;
    }
    const harnessId = a.type === 'timeout' ? 'harness.timeout' : 'harness.crash';
    const own: Outcome = a.checked
      ? { status: 'failed', runs: 0, message: a.type === 'timeout' ? `the host hung: ${a.why}` : a.why }
      : blockedOutcome(new StepBroken(harnessId, a.why.replace(/^the adapter call (.*?) did not settle.*$/s, '$1'), a.why), 0);
    results.record(id, own, took);
    results.record(harnessId, { status: 'failed', runs: 1, message: `during ${id}: ${a.why}` }, took, id);
    return own;
  };
  // host.load.conforming first: every other host id relies on the host loading a conforming pack.
  const load = await evaluate(LOAD, (o) => selected.includes(LOAD) || o.status !== 'passed');
  // The failed result the rest is blocked by: the load itself, or what cut it off.
  const blocker = load.status === 'failed' ? LOAD : load.status === 'skipped' ? load.blockedBy : undefined;
  const others = selected.filter((id) => id !== LOAD);
  if (blocker) {
    const why = (load.message ?? 'the host could not load the plain echo probe').replace(/^not evaluated: /, '').split('\n').slice(0, 2).map((l) => l.trim()).join(' ');
    for (const id of others) results.record(id, blockedOutcome(new StepBroken(blocker, 'load(the plain echo probe)', why), 0), 0);
  } else await schedule(others, 1, (id) => evaluate(id, () => true).then(() => undefined));
  await (w as HostWorker | null)?.stop();
  const { pack: _pack, ...rest } = packReport({ path: adapterPath, sha256: '', abi: null, abiVersion: null, templates: [], imports: [] }, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered([LOAD, ...selected.filter((i) => i !== LOAD)]), t0);
  return { ...rest, host: { path: adapterPath } };
}
