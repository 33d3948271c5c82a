// The campaign loop: pick a corpus input, mutate it, run batches of
// children through the instrumented pack in worker lanes, keep the children
// that reached new coverage (a new hit-count bucket on some edge), feed
// CmpLog's operands to the dictionary, and turn each distinct confirmed
// violation into a minimised artifact. Deterministic for one lane and a
// fixed --seed and --max-execs (hangs aside: where a call is cut off depends
// on the clock).
import fc from 'fast-check';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validMessage } from '../../properties/arbitraries/message.ts';
import { badShapePayload } from '../../properties/arbitraries/payload.ts';
import { stringifyJson } from '../../properties/arbitraries/json-text.ts';
import type { Profile, Template } from '../abi/registration.ts';
import { TokenBag, type Dictionary } from './dictionary.ts';
import { inputToState } from './cmplog.ts';
import { inputHash, inputSize, parseInput, type FuzzInput } from './input.ts';
import type { Violated } from './judge.ts';
import { FuzzLane, type CutOff, type LaneOptions } from './lane.ts';
import { hangMessage, minimise, minimiseHang } from './minimise.ts';
import { Mutator, prng } from './mutate.ts';
import { Schedule } from './schedule.ts';
import { replayCommand, writeArtifact } from './artifacts.ts';
import type { InstrumentedPack } from './fuzz-worker.ts';
import type { SparseTrace } from './coverage.ts';

export interface CampaignOptions {
  pack: { path: string; sha256: string; bytes: Uint8Array };
  seed: number;
  /** Wall-clock budget in seconds (null: none, then maxExecs must be set). */
  timeS: number | null;
  maxExecs: number | null;
  jobs: number;
  timeoutMs: number;
  profile: Profile;
  dict: boolean;
  /** Tokens of a --dict file: used whether or not the harvested dictionary is (`dict`). */
  extraDict?: Dictionary | null;
  cmplog: boolean;
  corpusDir: string | null;
  artifactsDir: string;
  /**
   * false: no feedback at all (the baseline coverage feedback must beat):
   * every input is generated afresh through the Message arbitraries, as the
   * battery does, only for longer; the corpus, dictionary and CmpLog are not
   * used. Default true.
   */
  feedback?: boolean;
  /** The benchmark's time-to-find: stop at the first finding with this id. */
  stopOnFinding?: string;
  /** Called after every batch (the progress line). */
  onProgress?: (s: CampaignStats) => void;
  /** Called as each finding's artifact is written (a campaign stopped from outside still reports it). */
  onFinding?: (f: Finding) => void;
}

export interface CampaignStats {
  execs: number;
  edges: number;
  totalEdges: number;
  corpus: number;
  findings: number;
  ms: number;
}

export interface Finding {
  id: string;
  message: string;
  artifact: string;
  input: FuzzInput;
  replay: string;
  /** Executions the campaign had made when it first met this finding. */
  foundAtExec: number;
  /** Milliseconds since the campaign started (instrumenting included) when it first met it. */
  foundAtMs: number;
  site: string;
}

export interface CampaignResult {
  templates: Template[];
  stats: { execs: number; execsPerSec: number; edges: { covered: number; total: number }; corpus: number; durationMs: number; unconfirmed: number; dictionary: { strings: number; ints: number } };
  coverage: { ms: number; execs: number; edges: number }[];
  findings: Finding[];
}

/**
 * Inputs per message to a worker: small while leads are queued (new corpus
 * entries, CmpLog runs, input-to-state children), so that what they teach
 * reaches the next batch soon; large otherwise, where the cost of a message
 * (about 1-3 ms a round trip) is spread over more executions.
 */
const BATCH = 32;
const BATCH_LARGE = 128;
const MINIMISE_BUDGET = 400;
/** Share of a batch given to deterministic stages (the rest: new entries' children, then weighted draws). */
const STAGE_SHARE = 0.25;
const QUEUE_CAP = 256;
const MAX_TICKS = 8;

/** Seed inputs: an empty tick and one Message per declared inport, for every template. */
function seedInputs(templates: readonly Template[], messages: readonly string[], badShapes: Map<string, string[]>): FuzzInput[] {
  const out: FuzzInput[] = [];
  for (const t of templates) {
    out.push({ template: t.name, ticks: ['{"input":{}}'] });
    t.inports.forEach((port, i) => out.push({ template: t.name, ticks: [`{"input":{${JSON.stringify(port)}:${messages[i % messages.length] ?? '{"type":"Flow"}'}}}`] }));
    for (const b of badShapes.get(t.name) ?? []) out.push({ template: t.name, ticks: [b] });
  }
  return out;
}

function readCorpusDir(dir: string | null, templates: readonly Template[]): FuzzInput[] {
  if (!dir) return [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: FuzzInput[] = [];
  for (const n of names) {
    try {
      const i = parseInput(JSON.parse(readFileSync(join(dir, n), 'utf8')));
      if (typeof i !== 'string' && templates.some((t) => t.name === i.template)) out.push(i);
    } catch {
      // Not an input: left alone.
    }
  }
  return out;
}

/**
 * --no-feedback's inputs: 1 to 4 ticks on a template, each one valid Message
 * (the battery's arbitraries, drawn in seeded chunks) on one of its declared
 * inports.
 */
function noFeedbackSource(o: CampaignOptions, templates: readonly Template[]): () => FuzzInput {
  const rand = prng(o.seed ^ 0x5eed);
  let pool: string[] = [];
  let chunk = 0;
  const message = () => {
    if (!pool.length) pool = fc.sample(validMessage(), { seed: o.seed + 7919 * chunk++, numRuns: 500 }).map((m) => stringifyJson(m));
    return pool.pop()!;
  };
  return () => {
    const t = templates[Math.floor(rand() * templates.length)]!;
    const n = 1 + Math.floor(rand() * 4);
    const ticks = Array.from({ length: n }, () => {
      const port = t.inports.length ? t.inports[Math.floor(rand() * t.inports.length)]! : 'in';
      return `{"input":{${JSON.stringify(port)}:${message()}}}`;
    });
    return { template: t.name, ticks };
  };
}

interface Batch {
  batch: FuzzInput[];
  /** Per input: run on the CmpLog build. */
  flags: boolean[];
}

/** The pack could not be instrumented or surveyed: the campaign never started. */
export class CannotFuzz extends Error {}


export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const laneOpts = (plain: boolean, instrumented: InstrumentedPack | null): LaneOptions => ({ bytes: o.pack.bytes, timeoutMs: o.timeoutMs, profile: o.profile, plain, cmplog: o.cmplog, instrumented });
  let first: FuzzLane;
  try {
    first = await FuzzLane.open(laneOpts(false, null));
  } catch (e) {
    throw new CannotFuzz((e as Error).message);
  }
  const instrumented = first.instrumented!;
  const templates = first.templates;
  const lanes: (FuzzLane | null)[] = [first, ...Array.from({ length: Math.max(0, o.jobs - 1) }, () => null)];
  const laneAt = async (k: number) => {
    let l = lanes[k];
    if (!l || l.dead) l = lanes[k] = await FuzzLane.open(laneOpts(false, instrumented));
    return l;
  };
  let plainLane: FuzzLane | null = null;
  const plain = async () => {
    if (!plainLane || plainLane.dead) plainLane = await FuzzLane.open(laneOpts(true, null));
    return plainLane;
  };

  const rand = prng(o.seed);
  const strings = new TokenBag<string>(4096);
  const ints = new TokenBag<bigint>(4096);
  const cmpStrings = new TokenBag<string>(4096);
  const cmpInts = new TokenBag<bigint>(4096);
  /** Input-to-state children (cmplog.ts): run before any random mutation. */
  const priority: FuzzInput[] = [];
  // The user's tokens first: the bag is bounded, and they were chosen by hand.
  for (const s of o.extraDict?.strings ?? []) strings.add(s);
  for (const v of o.extraDict?.ints ?? []) ints.add(v);
  if (o.dict) {
    for (const s of instrumented.dictionary.strings) strings.add(s);
    for (const v of instrumented.dictionary.ints) ints.add(v);
  }
  /** The module's compared constants, to rank CmpLog's pairs (whether or not the dictionary is on). */
  const staticInts = new TokenBag<bigint>(1 << 16);
  if (o.cmplog) for (const v of instrumented.dictionary.ints) staticInts.add(v);
  // An Integer first: a numeric field for the dictionary's and CmpLog's integers to land in.
  const messages = ['{"type":"Integer","data":0}', ...fc.sample(validMessage(), { seed: o.seed, numRuns: 200 }).map((m) => stringifyJson(m))];
  const badShapes = new Map(templates.map((t) => [t.name, fc.sample(badShapePayload(t.inports), { seed: o.seed, numRuns: 4 }).map((c) => c.text ?? '')]));
  const mutator = new Mutator(rand, { templates, messages, strings, ints, cmpStrings, cmpInts });

  const virgin = new Uint8Array(instrumented.edges);
  let covered = 0;
  /** The corpus and the choice of parents (schedule.ts). */
  const schedule = new Schedule(instrumented.edges, (i) => mutator.stage(i));
  const corpus = schedule.inputs;
  const needsCmplog: FuzzInput[] = [];
  const coverage: CampaignResult['coverage'] = [];
  const findings: Finding[] = [];
  const seenKeys = new Set<string>();
  let execs = 0;
  let unconfirmed = 0;

  const stats = (): CampaignStats => ({ execs, edges: covered, totalEdges: instrumented.edges, corpus: corpus.length, findings: findings.length, ms: performance.now() - t0 });
  const timeUp = () => (o.timeS !== null && performance.now() - t0 >= o.timeS * 1000) || (o.maxExecs !== null && execs >= o.maxExecs) || (o.stopOnFinding !== undefined && findings.some((f) => f.id === o.stopOnFinding));

  /** Whether a trace sets a bucket bit no input set before (and records it). */
  const novel = (trace: SparseTrace): boolean => {
    let found = false;
    for (const x of trace) {
      const e = x >>> 8;
      const b = x & 0xff;
      if (b & ~virgin[e]!) {
        if (virgin[e] === 0) covered++;
        virgin[e]! |= b;
        found = true;
      }
    }
    return found;
  };

  const report = async (input: FuzzInput, v: Violated, foundAt: number) => {
    const key = `${v.id}\n${v.site}`;
    if (seenKeys.has(key)) return;
    seenKeys.add(key);
    const foundAtMs = Math.round(performance.now() - t0);
    const small = v.id === 'harness.timeout' ? { input: await minimiseHang(input, plain, 6), violated: v, execs: 0 } : await minimise(input, v, { lane: plain, budget: MINIMISE_BUDGET });
    const artifact = writeArtifact(o.artifactsDir, { pack: { path: o.pack.path, sha256: o.pack.sha256 }, id: v.id, message: small.violated.message, input: small.input });
    const finding = { id: v.id, message: small.violated.message, artifact, input: small.input, replay: replayCommand(o.pack.path, artifact), foundAtExec: foundAt, foundAtMs, site: v.site };
    findings.push(finding);
    o.onFinding?.(finding);
  };

  /** A cut-off input: confirmed on the plain module alone before it is a harness.timeout finding. */
  const cutOff = async (input: FuzzInput, c: CutOff, foundAt: number) => {
    if (c.kind === 'timeout') {
      // The same call hanging again is the same finding: not worth another timeout to confirm.
      if (seenKeys.has(`harness.timeout\nhang in ${c.call?.call ?? 'a pack call'}`)) return;
      const lane = await plain();
      const again = await lane.judge([input]);
      if ('kind' in again && again.kind === 'timeout') await report(input, { id: 'harness.timeout', message: hangMessage(again.call, o), site: `hang in ${again.call?.call ?? 'a pack call'}`, tick: -1 }, foundAt);
      else unconfirmed++;
    } else await report(input, { id: 'harness.crash', message: `the worker running the pack died: ${c.why}`, site: c.why.replace(/\d+/g, '#'), tick: -1 }, foundAt);
  };

  const runOn = async (k: number, inputs: FuzzInput[], cmplog: boolean[]): Promise<void> => {
    // A live lane is asked at once, so the batch is posted before this returns and the next batch is made while
    // the worker runs this one (the lane loop); only a lane to restart waits first.
    const live = lanes[k];
    const lane = live && !live.dead ? live : await laneAt(k);
    const got = await lane.runBatch(inputs, cmplog);
    if ('kind' in got) {
      execs += got.index + 1;
      await cutOff(inputs[got.index]!, got, execs);
      return;
    }
    const base = execs;
    execs += inputs.length;
    for (const { index, trace } of got.traces) {
      if (novel(trace)) {
        const input = inputs[index]!;
        schedule.admit(input, trace);
        // State lives in the instance: the same tick once more is where a sequence goes on.
        const longer = input.ticks.length > 0 && input.ticks.length < MAX_TICKS ? { ...input, ticks: [...input.ticks, input.ticks.at(-1)!] } : null;
        if (o.cmplog) needsCmplog.push(...(longer ? [longer] : []), input);
        else if (longer) priority.push(longer);
      }
    }
    for (const { index, finds } of got.cmp) {
      for (const pair of finds.strings) for (const s of pair) cmpStrings.add(s.split('"')[0]!);
      for (const pair of finds.ints) for (const v of pair) cmpInts.add(BigInt(v));
      priority.push(...inputToState(inputs[index]!, finds, (v) => staticInts.has(v)));
    }
    unconfirmed += got.unconfirmed;
    for (const f of got.findings) await report(inputs[f.index]!, f.violated, base + f.index + 1);
  };

  const seeds = [...readCorpusDir(o.corpusDir, templates), ...seedInputs(templates, messages, badShapes)];
  for (let at = 0; at < seeds.length && !timeUp(); at += BATCH) {
    const chunk = seeds.slice(at, at + BATCH);
    await runOn(0, chunk, chunk.map(() => o.cmplog));
  }
  if (corpus.length === 0 && seeds.length) schedule.admitPlain(seeds[0]!);
  coverage.push({ ms: Math.round(performance.now() - t0), execs, edges: covered });

  /** Executions sent to workers and not yet answered, over all lanes (the --runs budget counts them). */
  let inFlight = 0;
  const generated = noFeedbackSource(o, templates);
  /** Inputs made in advance and not yet sent (counted against the --runs budget too). */
  let reserved = 0;
  const makeBatch = (): Batch => {
    const batch: FuzzInput[] = [];
    const flags: boolean[] = [];
    const size = needsCmplog.length || priority.length || schedule.hasFresh ? BATCH : BATCH_LARGE;
    const room = o.maxExecs !== null ? Math.min(size, o.maxExecs - execs - inFlight - reserved) : size;
    if (o.feedback === false) {
      while (batch.length < room) {
        batch.push(generated());
        flags.push(false);
      }
      return { batch, flags };
    }
    // Newest first, in bounded shares of the batch: queues fill faster than they drain, and the
    // newest entries are the ones at the frontier of coverage.
    // Inputs new to the corpus run once more with CmpLog on (AFL++ does the same per queue entry).
    while (needsCmplog.length && batch.length < Math.min(room, 4)) {
      batch.push(needsCmplog.pop()!);
      flags.push(true);
    }
    // Input-to-state children in the order they came (the cheapest and surest leads: all of them run).
    while (priority.length && batch.length < Math.min(room, 16)) {
      batch.push(priority.shift()!);
      flags.push(false);
    }
    // The newest entry's own children (the frontier), then deterministic stages, then weighted draws.
    const own = schedule.takeFresh(room - batch.length);
    for (let e = 0; own && e < own.children; e++) {
      batch.push(mutator.mutate(own.parent, corpus));
      flags.push(false);
    }
    for (const child of schedule.takeStage(Math.min(room - batch.length, Math.ceil(room * STAGE_SHARE)))) {
      batch.push(child);
      flags.push(false);
    }
    if (needsCmplog.length > QUEUE_CAP) needsCmplog.splice(0, needsCmplog.length - QUEUE_CAP);
    if (priority.length > 8 * QUEUE_CAP) priority.length = 8 * QUEUE_CAP;
    if (batch.length < room) schedule.refresh();
    while (batch.length < room) {
      batch.push(mutator.mutate(schedule.draw(rand), corpus));
      flags.push(false);
    }
    return { batch, flags };
  };

  // Pipelined: while the worker runs one batch, the next is made, so the
  // main thread's mutation and the worker's executions overlap. That batch
  // is made from the answers in before it: what an answer teaches (new
  // corpus entries, CmpLog runs, input-to-state children) goes into the
  // batch after it, one batch later than it could (a batch is 32 inputs
  // while leads are queued). Every choice still depends only on answers
  // already in, in a fixed order, so a one-lane campaign stays
  // deterministic.
  const lane = async (k: number) => {
    let ahead: Batch | null = null;
    const take = (): Batch => {
      const b = ahead!;
      ahead = null;
      reserved -= b.batch.length;
      return b;
    };
    while (!timeUp() && corpus.length) {
      let current: Batch | null = ahead ? take() : null;
      // Made ahead with no room left (the budget was all in flight, or a cut-off input left some unused): made again.
      if (!current || !current.batch.length) current = makeBatch();
      if (!current.batch.length) break;
      const { batch, flags } = current;
      inFlight += batch.length;
      const answer = runOn(k, batch, flags).finally(() => (inFlight -= batch.length));
      if (!timeUp()) {
        ahead = makeBatch();
        reserved += ahead.batch.length;
      }
      const before = covered;
      await answer;
      if (covered !== before || coverage.length < 2 || performance.now() - t0 - coverage.at(-1)!.ms > 1000) coverage.push({ ms: Math.round(performance.now() - t0), execs, edges: covered });
      o.onProgress?.(stats());
    }
  };
  await Promise.all(lanes.map((_, k) => lane(k)));
  coverage.push({ ms: Math.round(performance.now() - t0), execs, edges: covered });
  await Promise.all([...lanes, plainLane as FuzzLane | null].map((l) => l?.close()));

  if (o.corpusDir) saveCorpus(o.corpusDir, corpus);
  const durationMs = performance.now() - t0;
  return {
    templates,
    stats: { execs, execsPerSec: Math.round(execs / Math.max(durationMs / 1000, 1e-3)), edges: { covered, total: instrumented.edges }, corpus: corpus.length, durationMs: Math.round(durationMs), unconfirmed, dictionary: { strings: strings.size + cmpStrings.size, ints: ints.size + cmpInts.size } },
    coverage,
    findings,
  };
}

/** The corpus as files named by content hash: a later campaign (or another machine) starts from it. */
function saveCorpus(dir: string, corpus: readonly FuzzInput[]): void {
  mkdirSync(dir, { recursive: true });
  for (const i of corpus) writeFileSync(join(dir, `${inputHash(i)}.json`), `${JSON.stringify(i)}\n`);
}

export { inputSize };
