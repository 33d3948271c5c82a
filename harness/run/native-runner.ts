// Checks a native (vtable ABI) pack. The pack runs in a child process, with
// the allocation tracker preloaded where it can be built. The child reports
// every pack call (dlopen included) before making it; a signal or abort adds
// `harness.crash` naming the signal and the call in progress, a call past
// --timeout-ms is killed and reported as `harness.timeout`, and the next
// property gets a fresh child. Attribution (PROPERTIES.md) follows ./plan.ts:
// a survey step that breaks (dlopen, symbols, the first version call, the
// baseline registration, its drop) fails the id that owns it and blocks only
// the ids that rely on it; a call cut off inside a property fails that
// property only when the call was its own checked step, else blocks it.
import { LineMarker } from '../kernel/markers.ts';
import { Sandbox, schedule } from '../kernel/sandbox.ts';
import { childTransport, type ChildTransport } from '../kernel/transports.ts';
import { LoadError, type PackFile } from './pack-file.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { ResultCollector, SURVEY } from './results.ts';
import { selectFrom } from './wasm-runner.ts';
import { trackerEnv } from '../hosts/native/alloc-tracker.ts';
import type { FromChild, ToChild } from './native-child.ts';
import { NO_EXPECTED_ABI, PLAN, STEP_OWNER, STEP_TEXT, TRACKER_IDS, noTracker, type CallKind, type NativeStep } from './native-plan.ts';
import { DEFAULT_ENTRYPOINT } from '../hosts/native/vtable-host.ts';
import { VTABLE_PROPERTY_IDS, type VtablePropertyId } from '../../properties/catalog.ts';
import type { CheckOptions, Outcome } from '../../properties/types.ts';
import { DETERMINISTIC, judgeDeterministic, type Baseline } from '../../properties/vtable.ts';

export interface NativeRunnerOptions extends CheckOptions {
  only?: string[];
  skip?: string[];
  entrypoint?: string;
  onResult?: (r: PropertyResult) => void;
}

const ENTRY = new URL('./native-child-entry.mjs', import.meta.url);
/** How long a child may take to start (node and tsx), or to answer between pack calls, on top of --timeout-ms. */
const START_GRACE_MS = 15000;

/** A call the harness cut off: the process died, or a call (or the process start) did not end in time. */
type Cut = { type: 'crash' | 'timeout'; why: string; kind: CallKind | null; call: string | null };
type Answer = FromChild | Cut;
const isCut = (a: Answer): a is Cut => a.type === 'crash' || a.type === 'timeout';

/** A child process holding the pack, on the kernel (../kernel/sandbox.ts), answering in this runner's terms. */
class NativeChild {
  private readonly transport: ChildTransport<ToChild, FromChild>;
  private readonly marker: LineMarker;
  private readonly sandbox: Sandbox<ToChild, FromChild>;

  constructor(env: Record<string, string>, timeoutMs: number) {
    // The process start counts as a call until the child first reports; silence between calls gets the same grace.
    this.marker = new LineMarker(timeoutMs, START_GRACE_MS, 'the start of the process that holds the pack');
    this.transport = childTransport<ToChild, FromChild>(ENTRY, { ...process.env, ...env, PACKCHECK_PARENT_PID: String(process.pid) }, (l) => this.marker.line(l));
    this.sandbox = new Sandbox(this.transport, this.marker);
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get dead(): boolean {
    return this.sandbox.dead;
  }

  async ask(msg: ToChild): Promise<Answer> {
    const v = await this.sandbox.ask(msg);
    if (v.type === 'answer') return v.answer;
    if (v.type === 'crash') {
      const how = v.why.startsWith('killed with ') ? `the pack killed its process with ${v.why.slice('killed with '.length)}` : `the pack's process ${v.why}`;
      const tail = this.transport.stderrLast();
      const c = v.call;
      if (v.why === 'the sandbox had already ended') return { type: 'crash', why: 'the process had already ended', kind: null, call: null };
      const now = this.marker.inProgress();
      return { type: 'crash', why: `${how} during ${c?.call ?? 'none yet'}${tail ? ` (stderr: ${tail})` : ''}`, kind: (now?.kind as CallKind | undefined) ?? null, call: now?.call ?? null };
    }
    const c = v.call;
    const what = c.idle ? 'the process that holds the pack did not answer' : c.kind === 'start' ? `${c.call} did not end` : `${c.call} did not return`;
    return { type: 'timeout', why: `${what} within ${c.budgetMs} ms${!c.idle && c.kind !== 'start' ? ' (--timeout-ms)' : ''}; its process was killed and the check went on`, kind: c.idle ? null : ((c.kind as CallKind | undefined) ?? null), call: c.idle ? null : c.call };
  }

  kill() {
    void this.sandbox.stop();
  }
}

const harnessId = (a: Cut) => (a.type === 'timeout' ? 'harness.timeout' : 'harness.crash');
const verb = (a: Cut) => (a.type === 'timeout' ? 'hung' : 'crashed');

export async function checkNativePack(file: PackFile, opts: NativeRunnerOptions): Promise<PackReport> {
  const t0 = performance.now();
  if (process.platform !== 'linux' && process.platform !== 'darwin') throw new LoadError(`${file.path}: native packs are checked on Linux (and, untested, macOS) only`);
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const entrypoint = opts.entrypoint ?? DEFAULT_ENTRYPOINT;
  const results = new ResultCollector(file.path, options, opts.onResult, entrypoint === DEFAULT_ENTRYPOINT ? [] : ['--entrypoint', entrypoint]);
  const env = trackerEnv();
  const childEnv = 'missing' in env ? {} : env;
  const ids = selectFrom(VTABLE_PROPERTY_IDS, opts.only, opts.skip);
  const load: Omit<Extract<ToChild, { type: 'load' }>, 'dropBroken'> = { type: 'load', path: file.path, entrypoint, options };

  const broken = new Set<NativeStep>();
  let abiVersion: number | null = null;
  let baseline: Baseline | null = null;
  let loadedOnce = false;

  /** A survey step broke: its owner fails (once), a harness result names the cut-off call. */
  const stepBroke = (step: NativeStep, a: Cut | { message: string }, took: number) => {
    broken.add(step);
    const owner = STEP_OWNER[step];
    if ('why' in a) results.record(harnessId(a), { status: 'failed', runs: 1, message: `while surveying the pack (${STEP_TEXT[step]}): ${a.why}` }, took, owner);
    if (results.has(owner)) return;
    let message: string;
    if ('why' in a) message = `${STEP_TEXT[step]}: the pack ${verb(a)}: ${a.why}`;
    else if (step === 'dlopen') message = `dlopen(${file.path})\n    returned: an error: ${a.message}\n    expected: the shared object loads (every library it needs found, its constructors return)`;
    else message = `loading ${file.path}\n    returned: ${a.message}\n    expected: the exports reflow_pack_abi_version and ${entrypoint}`;
    results.record(owner, { status: 'failed', runs: 1, reached: 1, step: STEP_TEXT[step], message }, took);
  };

  /**
   * A fresh child, loaded and surveyed (every step not known broken); null
   * when the pack cannot be loaded at all. A step that breaks is recorded and
   * the survey starts over in another fresh child without it.
   */
  const prepare = async (): Promise<{ child: NativeChild; baseline: Baseline | null } | Cut | null> => {
    for (;;) {
      if (broken.has('dlopen') || broken.has('symbols')) return null;
      const s0 = performance.now();
      const child = new NativeChild(childEnv, opts.timeoutMs);
      const a = await child.ask({ ...load, dropBroken: broken.has('drop') });
      if (a.type !== 'loaded') {
        child.kill();
        // A pack that loaded before and not now: the property that asked is cut off, not the load.
        if (loadedOnce) return isCut(a) ? a : { type: 'crash', why: `the pack loaded before but not now: ${'message' in a ? a.message : a.type}`, kind: 'dlopen', call: `dlopen(${file.path})` };
        if (a.type === 'load-error') stepBroke(a.step, a, performance.now() - s0);
        else if (isCut(a)) {
          // A cut-off before dlopen began (the process did not start) is the harness's, not the pack's.
          if (a.kind === 'dlopen') stepBroke('dlopen', a, performance.now() - s0);
          else return a;
        }
        return null;
      }
      if (!loadedOnce && ids.includes('vtable.load.dlopen')) results.record('vtable.load.dlopen', { status: 'passed', runs: 1, reached: 1 }, performance.now() - s0);
      loadedOnce = true;
      let seen: Baseline | null = null;
      let again = false;
      for (const step of ['version', 'register', 'drop'] as const) {
        if (broken.has(step) || (step === 'drop' && broken.has('register'))) continue;
        const t = performance.now();
        const r = await child.ask({ type: 'step', step });
        if (isCut(r)) {
          stepBroke(step, r, performance.now() - t);
          again = true;
          break;
        }
        if (r.type !== 'step-done') throw new Error(`the native child answered ${r.type} to the ${step} step`);
        if (r.abiVersion !== undefined) abiVersion ??= r.abiVersion;
        if (r.baseline) {
          seen = r.baseline;
          baseline ??= r.baseline;
        }
      }
      if (!again) return { child, baseline: seen };
      child.kill();
    }
  };

  /** A call cut off inside property `id`: its failure when the call was its own checked step, else blocked by the harness result. */
  const attribute = (id: VtablePropertyId, a: Cut, took: number) => {
    results.record(harnessId(a), { status: 'failed', runs: 1, message: `during ${id}: ${a.why}` }, took, id);
    if (a.kind && PLAN[id].checks.includes(a.kind)) results.record(id, { status: 'failed', runs: 1, reached: 1, message: `the pack ${verb(a)}: ${a.why}` }, took);
    else results.record(id, { status: 'skipped', runs: 0, reached: 0, blockedBy: harnessId(a), step: a.call ?? 'the process that holds the pack', message: `not evaluated: a step it relies on was cut off (see ${harnessId(a)}): ${a.why}` }, took);
  };

  let current: NativeChild | null = null;
  let currentBaseline: Baseline | null = null;
  const trackerMissing = 'missing' in env ? env.missing : null;

  const evaluate = async (id: VtablePropertyId) => {
    if (results.has(id)) return;
    const started = performance.now();
    if (id === 'abi.version.expected' && options.expectAbi === null) return void results.record(id, { status: 'skipped', runs: 0, message: NO_EXPECTED_ABI }, 0);
    if (trackerMissing !== null && TRACKER_IDS.includes(id)) return void results.record(id, { status: 'skipped', runs: 0, message: noTracker(trackerMissing) }, 0);
    if (!current || current.dead) {
      const s = await prepare();
      if (s && 'child' in s) [current, currentBaseline] = [s.child, s.baseline];
      else if (s) return attribute(id, s, performance.now() - started);
    }
    if (results.has(id)) return; // its own survey step broke
    const step = PLAN[id].relies.find((x) => broken.has(x));
    if (step) return void results.record(id, { status: 'skipped', runs: 0, reached: 0, blockedBy: STEP_OWNER[step], step: STEP_TEXT[step], message: `not evaluated: a step it relies on broke (see ${STEP_OWNER[step]}): ${STEP_TEXT[step]}` }, 0);
    if (id === 'vtable.load.dlopen') return; // recorded by the load
    if (!current || current.dead) return void results.record(id, { status: 'errored', runs: 0, message: 'harness error (please report): no process holds the pack' }, 0);
    if (id === DETERMINISTIC) {
      // Two loads in two fresh processes: this child's baseline and another fresh child's.
      const second = await prepare();
      const took = performance.now() - started;
      if (second && 'child' in second) second.child.kill();
      else if (second) return attribute(id, second, took);
      const [a, b] = [currentBaseline, second?.baseline ?? null];
      if (!a || !b) return evaluate(id); // the registration broke meanwhile: blocked by its owner
      return void results.record(id, judgeDeterministic(entrypoint, a, b), took);
    }
    const a = await current.ask({ type: 'property', id });
    const took = performance.now() - started;
    if (a.type === 'result') results.record(id, a.outcome, a.durationMs);
    else if (isCut(a)) attribute(id, a, took);
    else results.record(id, { status: 'errored', runs: 0, message: `harness error (please report): the native child answered ${a.type} out of turn` }, took);
  };

  // The survey (in the first child), then every selected id, then any id a result is blocked by that --only/--skip left out.
  const first = await prepare();
  if (first && 'child' in first) [current, currentBaseline] = [first.child, first.baseline];
  else if (first) {
    // The process never got as far as dlopen: nothing was checked.
    results.record(harnessId(first), { status: 'failed', runs: 1, message: `while starting the process that holds the pack: ${first.why}` }, 0, SURVEY);
    for (const id of ids) results.record(id, { status: 'skipped', runs: 0, reached: 0, blockedBy: harnessId(first), step: first.call ?? 'start the process that holds the pack', message: `not evaluated: the process that holds the pack did not start (see ${harnessId(first)})` }, 0);
  }
  // One process at a time: a native pack is loaded in one child, and its survey steps are shared.
  await schedule(ids, 1, evaluate);
  for (const tried = new Set<string>(); ; ) {
    const missing = results.missingBlockers().filter((b): b is VtablePropertyId => (VTABLE_PROPERTY_IDS as readonly string[]).includes(b) && !tried.has(b));
    if (!missing.length) break;
    for (const id of missing) tried.add(id);
    await schedule(missing, 1, evaluate);
  }
  (current as NativeChild | null)?.kill();

  const templates = ((baseline as Baseline | null)?.ids ?? []).map((name, factoryId) => ({ name: name ?? '<not UTF-8>', factoryId, inports: [], outports: [] }));
  const pack = { path: file.path, sha256: file.sha256, abi: 'vtable' as const, abiVersion, templates, imports: [] };
  return packReport(pack, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results.ordered(ids), t0);
}
