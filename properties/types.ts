// What a property is: a catalog id, when it applies, and how it is checked.
// Properties run inside a worker, with the pack, the checked host and
// fast-check together; the runner only sees their Outcome.
import fc from 'fast-check';
import type { WasmCallName } from '../harness/abi/abi.ts';
import { fnv1a } from '../harness/abi/abi.ts';
import type { CallGuard } from '../harness/kernel/call-guard.ts';
import { HarnessRefusal, PackTrap, StepBroken, Violation } from '../harness/abi/errors.ts';
import { readable } from '../harness/abi/readable.ts';
import type { Profile, Template } from '../harness/abi/registration.ts';
import type { Status, Violated } from '../harness/report/model.ts';
import type { Sample } from '../harness/hosts/wasm/ledger.ts';
import { CheckedWasmHost } from '../harness/hosts/wasm/wasm-host.ts';
import { PROFILING, phases } from '../harness/hosts/wasm/phase-clock.ts';
import type { WasmShape } from '../harness/hosts/wasm/wasm-shape.ts';
import type { WasmPropertyId } from './catalog.ts';
import { attribute } from './attribution.ts';
import type { Property } from './define.ts';

export interface CheckOptions {
  seed: number;
  /** Runs per fast-check property (large-payload properties take a share of it). */
  runs: number;
  /**
   * Replay path of one failure: fast-check's path, and for model-based
   * properties `@` and the commands' replayPath (fc.commands needs both).
   */
  path?: string;
  timeoutMs: number;
  profile: Profile;
  /** From --expect-abi or --rustc-vv; null when none was given. */
  expectAbi: number | null;
}

/** What the survey (shape + one registration on a fresh instance) found. */
export interface PackSurvey {
  shape: WasmShape;
  shapeProblems: string[];
  calls: WasmCallName[];
  imports: string[];
  abiVersion: number | null;
  registerStatus: number | null;
  /** Why the module could not be instantiated, if it could not. */
  surveyError: string | null;
  templates: Template[];
  metadataProblems: string[];
  /** Calls the survey did not make because they hung in an earlier attempt (guarded call names). */
  skipped: string[];
}

/** What runFc needs of a context: the options, and the calls the property judges (attribution). */
export interface RunContext {
  /** The property being checked: given by the runner (withId), so a property writes its id once. */
  id?: string;
  options: CheckOptions;
  /** Guarded call names whose traps are this property's own (properties/attribution.ts). */
  checks?: readonly string[];
}

export interface PropertyContext extends RunContext {
  module: WebAssembly.Module;
  survey: PackSurvey;
  options: CheckOptions;
  guard: CallGuard;
  /** A fresh pack instance; registered (status checked elsewhere) unless `register: false`. */
  fresh(opts?: { register?: boolean; watchBlocks?: boolean }): CheckedWasmHost;
}

export interface Outcome {
  status: Status;
  runs: number;
  /** Runs that reached the check (omitted: all of them). */
  reached?: number;
  /** With status `skipped`: the id whose failure stood in the way (a relied-on step broke). */
  blockedBy?: string;
  /** The step that broke, for a blocked outcome. */
  step?: string;
  /** What was called, what came back, what was expected: the failure as data. */
  violation?: Violated;
  message?: string;
  counterexample?: unknown;
  path?: string;
  /** Memory over the calls of a measurement (the report's timeline). */
  timeline?: Sample[];
}

export interface PackProperty extends Property<PropertyContext, WasmPropertyId> {
  /** The exports it calls: without them it is blocked by wasm.shape.exports. */
  needs: WasmCallName[];
  /**
   * The calls whose behaviour it judges: a trap or hang in them is its own
   * failure. A trap in any other call is a broken step, owned by another id
   * (properties/attribution.ts), and blocks it.
   */
  checks: WasmCallName[];
  /**
   * Ids whose failure makes this property's own failure meaningless (a
   * growth measurement over cycles that free through a broken free): when
   * both fail, this one is blocked by the other.
   */
  reliesOn?: WasmPropertyId[];
  check(ctx: PropertyContext): Outcome;
}

function idOf(ctx: RunContext): string {
  if (!ctx.id) throw new Error('the runner gave the property no id (use withId)');
  return ctx.id;
}

/** The context a property is checked with: its family's context, and its own id. */
export function withId<C extends object>(ctx: C, id: string): C & { id: string } {
  return Object.assign(Object.create(ctx) as C, { id });
}

/** The fast-check seed of one property: independent of which other properties run. */
export function seedFor(seed: number, id: string): number {
  return (seed ^ fnv1a(new TextEncoder().encode(id))) | 0;
}

/** A failure of the pack's (reported as `failed`), as opposed to a harness bug (`errored`). */
function isPackFailure(e: unknown): boolean {
  return e instanceof Violation || e instanceof PackTrap || e instanceof HarnessRefusal || e instanceof StepBroken;
}

/** The structured parts of a failure, when the error has them. */
function violationOf(e: unknown): { violation: Violated } | object {
  if (e instanceof Violation) return { violation: { call: e.call, got: e.got, expected: e.expected } };
  if (e instanceof StepBroken && e.expected) return { violation: { call: e.step, got: e.detail, expected: e.expected } };
  return {};
}

function messageOf(e: unknown): string {
  if (isPackFailure(e)) return (e as Error).message;
  if (e instanceof Error) return `harness error (please report): ${e.name}: ${e.message}\n${e.stack ?? ''}`;
  return String(e);
}

/**
 * Runs that stopped before the check because a relied-on step could not be
 * taken (and no one's defect is to blame: the run's input simply did not
 * apply). A predicate calls `notReached` and returns its value.
 */
let unreached = 0;
let lastUnreachedWhy = '';
export function notReached(why: string): true {
  unreached++;
  lastUnreachedWhy = why;
  return true;
}

/** The outcome of a property blocked by another id's defect in one of its steps. */
export function blockedOutcome(e: StepBroken, runs: number, extra: Partial<Outcome> = {}): Outcome {
  return {
    status: 'skipped',
    runs,
    reached: 0,
    blockedBy: e.owner,
    step: e.step,
    message: `not evaluated: a step it relies on broke (see ${e.owner}): ${e.message}`,
    ...extra,
  };
}

let onRun: () => void = () => {};
/** Called once per fast-check run of every property (the worker counts them for the progress line). */
export function setRunCounter(f: () => void): void {
  onRun = f;
}

/**
 * The property, counting its runs: a wrapper, so fast-check's own methods
 * stay as they are. Once a run stops at a broken step another id owns, the
 * property is blocked whatever smaller input shrinking finds (and shrinking
 * big payloads through a broken step took minutes): later calls pass at once,
 * so fast-check keeps the first counterexample and its replay path.
 */
function counted<P extends { run: (...a: never[]) => unknown }>(prop: P, id: string, checks: readonly string[]): P {
  const c = Object.create(prop) as P;
  let blocked = false;
  const blocks = (out: unknown) => {
    if (!out || typeof out !== 'object' || !('error' in out)) return false;
    const e = attribute((out as { error: unknown }).error, id, checks);
    return e instanceof StepBroken && e.owner !== id;
  };
  let failedOnce = false;
  c.run = ((...a: never[]) => {
    if (blocked) return null;
    onRun();
    const t0 = PROFILING ? performance.now() : 0;
    const r = prop.run(...a);
    if (r instanceof Promise)
      return r.then((out: unknown) => {
        if (blocks(out)) blocked = true;
        return out;
      });
    if (PROFILING) {
      const took = performance.now() - t0;
      phases.bodyMs += took;
      phases.fcRuns++;
      if (failedOnce) phases.shrinkMs += took;
      if (r !== null && !fc.PreconditionFailure.isFailure(r)) failedOnce = true;
    }
    if (blocks(r)) blocked = true;
    return r;
  }) as P['run'];
  return c;
}

/** Runs a fast-check property (sync or async) with the context's seed, runs and replay path. */
export async function runFcAsync<Ts extends [unknown, ...unknown[]]>(ctx: RunContext, numRuns: number, prop: fc.IAsyncProperty<Ts>, examples: Ts[] = []): Promise<Outcome> {
  unreached = 0;
  const id = idOf(ctx);
  return outcomeOf(id, ctx.checks ?? [], await fc.check(counted(prop, id, ctx.checks ?? []), fcParams(ctx, id, numRuns, examples)));
}

function fcParams<Ts>(ctx: RunContext, id: string, numRuns: number, examples: Ts[]) {
  return { seed: seedFor(ctx.options.seed, id), numRuns, path: ctx.options.path?.split('@')[0], examples };
}

/** Runs a fast-check property with the context's seed, runs and replay path. */
export function runFc<Ts extends [unknown, ...unknown[]]>(
  ctx: RunContext,
  numRuns: number,
  prop: fc.IProperty<Ts>,
  examples: Ts[] = [],
): Outcome {
  unreached = 0;
  const id = idOf(ctx);
  return outcomeOf(id, ctx.checks ?? [], fc.check(counted(prop, id, ctx.checks ?? []), fcParams(ctx, id, numRuns, examples)));
}

function outcomeOf<Ts>(id: string, checks: readonly string[], details: fc.RunDetails<Ts>): Outcome {
  if (!details.failed) {
    const reached = details.numRuns - unreached;
    if (reached > 0) return { status: 'passed', runs: details.numRuns, reached };
    // Nothing was checked: that is not a pass (PROPERTIES.md, Attribution).
    return { status: 'skipped', runs: details.numRuns, reached: 0, message: `not evaluated: none of its ${details.numRuns} runs reached the check (${lastUnreachedWhy})` };
  }
  const ce = details.counterexample as unknown[] | null;
  let shown: unknown = ce === null ? null : ce.length === 1 ? ce[0] : ce;
  let path = details.counterexamplePath ?? undefined;
  // A commands counterexample prints its own replay path: carry it in ours.
  const printed = typeof shown === 'object' && shown !== null && Symbol.iterator in shown ? String(shown) : '';
  const replay = /\/\*replayPath="([^"]*)"\*\//.exec(printed);
  if (replay) {
    path = `${path}@${replay[1]}`;
    shown = printed.replace(replay[0], '').trim();
  }
  const err = attribute(details.errorInstance, id, checks);
  // Runs before the failing one reached the check (or stopped before it).
  const reached = Math.max(0, details.numRuns - 1 - unreached);
  if (err instanceof StepBroken && err.owner !== id) return blockedOutcome(err, details.numRuns, { reached, counterexample: readable(shown), path });
  return {
    status: isPackFailure(err) ? 'failed' : 'errored',
    runs: details.numRuns,
    reached: reached + 1,
    ...(err instanceof StepBroken ? { step: err.step } : {}),
    ...violationOf(err),
    message: messageOf(err),
    counterexample: readable(shown),
    path,
  };
}

/** The commands' replayPath of a `--path` (after its `@`), if any. */
export function commandsReplayPath(ctx: { options: CheckOptions }): string | undefined {
  return ctx.options.path?.split('@')[1];
}

/** A single deterministic check: passes unless `body` throws; `id` is the property's own (a step it owns that breaks is its failure). */
export function runOnce(body: () => void, ctx: RunContext): Outcome {
  const id = idOf(ctx);
  try {
    body();
    return { status: 'passed', runs: 1, reached: 1 };
  } catch (caught) {
    const e = attribute(caught, id, ctx.checks ?? []);
    if (e instanceof StepBroken && e.owner !== id) return blockedOutcome(e, 1);
    return { status: isPackFailure(e) ? 'failed' : 'errored', runs: 1, reached: 1, ...(e instanceof StepBroken ? { step: e.step } : {}), ...violationOf(e), message: messageOf(e) };
  }
}

export { messageOf };
