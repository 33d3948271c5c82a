// What a property is: a catalog id, when it applies, and how it is checked.
// Properties run inside a worker, with the pack, the checked host and
// fast-check together; the runner only sees their Outcome.
import fc from 'fast-check';
import type { WasmCallName } from '../harness/abi.ts';
import { fnv1a } from '../harness/abi.ts';
import type { CallGuard } from '../harness/call-guard.ts';
import { HarnessRefusal, PackTrap, Violation } from '../harness/errors.ts';
import { readable } from '../harness/readable.ts';
import type { Profile, Template } from '../harness/registration.ts';
import type { Status } from '../harness/report/model.ts';
import type { Sample } from '../harness/ledger.ts';
import { CheckedWasmHost } from '../harness/wasm-host.ts';
import type { WasmShape } from '../harness/wasm-shape.ts';
import type { WasmPropertyId } from './catalog.ts';

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
}

export interface PropertyContext {
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
  message?: string;
  counterexample?: unknown;
  path?: string;
  /** Memory over the calls of a measurement (the report's timeline). */
  timeline?: Sample[];
}

export interface PackProperty {
  id: WasmPropertyId;
  /** The exports it calls: without them it is skipped (wasm.shape.exports reports the gap). */
  needs: WasmCallName[];
  /** null when it applies, else the reason to skip. */
  skipReason?(ctx: PropertyContext): string | null;
  check(ctx: PropertyContext): Outcome;
}

/** The fast-check seed of one property: independent of which other properties run. */
export function seedFor(seed: number, id: string): number {
  return (seed ^ fnv1a(new TextEncoder().encode(id))) | 0;
}

/** A failure of the pack's (reported as `failed`), as opposed to a harness bug (`errored`). */
function isPackFailure(e: unknown): boolean {
  return e instanceof Violation || e instanceof PackTrap || e instanceof HarnessRefusal;
}

function messageOf(e: unknown): string {
  if (isPackFailure(e)) return (e as Error).message;
  if (e instanceof Error) return `harness error (please report): ${e.name}: ${e.message}\n${e.stack ?? ''}`;
  return String(e);
}

let onRun: () => void = () => {};
/** Called once per fast-check run of every property (the worker counts them for the progress line). */
export function setRunCounter(f: () => void): void {
  onRun = f;
}

/** The property, counting its runs: a wrapper, so fast-check's own methods stay as they are. */
function counted<P extends { run: (...a: never[]) => unknown }>(prop: P): P {
  const c = Object.create(prop) as P;
  c.run = ((...a: never[]) => {
    onRun();
    return prop.run(...a);
  }) as P['run'];
  return c;
}

/** Runs a fast-check property (sync or async) with the context's seed, runs and replay path. */
export async function runFcAsync<Ts extends [unknown, ...unknown[]]>(ctx: { options: CheckOptions }, id: string, numRuns: number, prop: fc.IAsyncProperty<Ts>, examples: Ts[] = []): Promise<Outcome> {
  return outcomeOf(await fc.check(counted(prop), fcParams(ctx, id, numRuns, examples)));
}

function fcParams<Ts>(ctx: { options: CheckOptions }, id: string, numRuns: number, examples: Ts[]) {
  return { seed: seedFor(ctx.options.seed, id), numRuns, path: ctx.options.path?.split('@')[0], examples };
}

/** Runs a fast-check property with the context's seed, runs and replay path. */
export function runFc<Ts extends [unknown, ...unknown[]]>(
  ctx: { options: CheckOptions },
  id: string,
  numRuns: number,
  prop: fc.IProperty<Ts>,
  examples: Ts[] = [],
): Outcome {
  return outcomeOf(fc.check(counted(prop), fcParams(ctx, id, numRuns, examples)));
}

function outcomeOf<Ts>(details: fc.RunDetails<Ts>): Outcome {
  if (!details.failed) return { status: 'passed', runs: details.numRuns };
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
  return {
    status: isPackFailure(details.errorInstance) ? 'failed' : 'errored',
    runs: details.numRuns,
    message: messageOf(details.errorInstance),
    counterexample: readable(shown),
    path,
  };
}

/** The commands' replayPath of a `--path` (after its `@`), if any. */
export function commandsReplayPath(ctx: { options: CheckOptions }): string | undefined {
  return ctx.options.path?.split('@')[1];
}

/** A single deterministic check: passes unless `body` throws. */
export function runOnce(body: () => void): Outcome {
  try {
    body();
    return { status: 'passed', runs: 1 };
  } catch (e) {
    return { status: isPackFailure(e) ? 'failed' : 'errored', runs: 1, message: messageOf(e) };
  }
}

export { messageOf };
