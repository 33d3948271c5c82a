// `packcheck fuzz PACK --merge OUT_DIR IN_DIR…`: libFuzzer's -merge=1. The
// inputs already in OUT_DIR are kept and their coverage counted first; then
// every input of the IN_DIRs, smallest first (ties by file name), is kept
// only when it reaches a feature (an edge at a hit-count bucket) that the
// inputs kept so far do not. The result covers the union of the corpora with
// no input that adds nothing to those before it, so shards of a campaign run
// on many machines become one corpus.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadError, readWasmPack } from '../run/pack-file.ts';
import { DEFAULTS } from '../run/replay.ts';
import type { Out } from '../cli.ts';
import { FuzzLane } from './lane.ts';
import { inputHash, parseInput, type FuzzInput } from './input.ts';
import type { SparseTrace } from './coverage.ts';
import type { InstrumentedPack } from './fuzz-worker.ts';

const BATCH = 256;

export interface CorpusFile {
  name: string;
  size: number;
  input: FuzzInput;
}

/** The inputs of a corpus directory (files that are not inputs are left out), or why it cannot be read. */
export function readCorpusFiles(dir: string): CorpusFile[] | string {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return `cannot read the directory ${dir}`;
  }
  const out: CorpusFile[] = [];
  for (const name of names) {
    try {
      const text = readFileSync(join(dir, name), 'utf8');
      const v = JSON.parse(text) as { input?: unknown };
      // A corpus file is an input; an artifact holds one under "input".
      const input = parseInput(typeof v === 'object' && v !== null && 'input' in v ? v.input : v);
      if (typeof input !== 'string') out.push({ name, size: Buffer.byteLength(text), input });
    } catch {
      // Not JSON: not an input.
    }
  }
  return out;
}

/** The features of a trace: edge × bucket bit, as numbers (edge · 8 + bit). */
export function featuresOf(trace: SparseTrace): number[] {
  const out: number[] = [];
  for (const x of trace) out.push((x >>> 8) * 8 + (31 - Math.clz32(x & 0xff)));
  return out;
}

/**
 * Each input's features on the instrumented pack, in order. An input whose
 * run was cut off (a hang, a crashed worker) has none: it is skipped, as
 * libFuzzer's merge skips crashing inputs, and the rest go on in a new worker.
 */
export async function measure(lane: () => Promise<FuzzLane>, inputs: readonly FuzzInput[]): Promise<number[][]> {
  const out: number[][] = inputs.map(() => []);
  let at = 0;
  while (at < inputs.length) {
    const chunk = inputs.slice(at, at + BATCH);
    const got = await (await lane()).runBatch([...chunk], chunk.map(() => false), 'all');
    if ('kind' in got) {
      at += got.index + 1;
      continue;
    }
    for (const { index, trace } of got.traces) out[at + index] = featuresOf(trace);
    at += chunk.length;
  }
  return out;
}

export interface MergeResult {
  kept: CorpusFile[];
  /** Inputs read from the IN_DIRs. */
  considered: number;
  /** Features of OUT_DIR before, and of the merged corpus. */
  featuresBefore: number;
  features: number;
  edges: number;
}

/** The merge itself: `existing` (OUT_DIR's inputs) counted first and kept; `candidates` kept where they add a feature. */
export async function mergeCorpora(lane: () => Promise<FuzzLane>, existing: CorpusFile[], candidates: CorpusFile[]): Promise<MergeResult> {
  const seen = new Set<number>();
  for (const f of (await measure(lane, existing.map((c) => c.input))).flat()) seen.add(f);
  const featuresBefore = seen.size;
  const order = [...candidates].sort((a, b) => a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const features = await measure(
    lane,
    order.map((c) => c.input),
  );
  const kept: CorpusFile[] = [];
  order.forEach((c, i) => {
    const fresh = features[i]!.filter((f) => !seen.has(f));
    if (!fresh.length) return;
    for (const f of fresh) seen.add(f);
    kept.push(c);
  });
  return { kept, considered: candidates.length, featuresBefore, features: seen.size, edges: new Set([...seen].map((f) => f >> 3)).size };
}

export async function mergeCli(positionals: string[], values: { 'timeout-ms'?: string; quiet?: boolean }, out: Out, err: Out): Promise<number> {
  const [packPath, outDir, ...inDirs] = positionals as [string, string, ...string[]];
  if (!inDirs.length) return err('packcheck fuzz: --merge takes the pack, the output directory and at least one corpus: packcheck fuzz PACK --merge OUT_DIR IN_DIR…'), 2;
  const timeoutMs = values['timeout-ms'] !== undefined ? Number(values['timeout-ms']) : DEFAULTS.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) return err(`packcheck fuzz: --timeout-ms takes a whole number of ms, got ${JSON.stringify(values['timeout-ms'])}`), 2;
  let file;
  try {
    file = await readWasmPack(packPath, '--merge measures coverage on the wasm pack the corpora were made for');
  } catch (e) {
    if (e instanceof LoadError) return err(`packcheck fuzz: ${e.message}`), 2;
    throw e;
  }
  const candidates: CorpusFile[] = [];
  for (const dir of inDirs) {
    const got = readCorpusFiles(dir);
    if (typeof got === 'string') return err(`packcheck fuzz: ${got}; --merge takes corpus directories (packcheck fuzz --corpus DIR writes them)`), 2;
    candidates.push(...got);
  }
  mkdirSync(outDir, { recursive: true });
  const existingRead = readCorpusFiles(outDir);
  const existing = typeof existingRead === 'string' ? [] : existingRead;
  let current: FuzzLane | null = null;
  let instrumented: InstrumentedPack | null = null;
  const lane = async () => {
    if (!current || current.dead) {
      current = await FuzzLane.open({ bytes: file.bytes, timeoutMs, profile: 'sdk', plain: false, cmplog: false, instrumented });
      instrumented ??= current.instrumented;
    }
    return current;
  };
  let r: MergeResult;
  try {
    r = await mergeCorpora(lane, existing, candidates);
  } catch (e) {
    return err(`packcheck fuzz: cannot measure coverage on ${file.path}: ${(e as Error).message}`), 2;
  } finally {
    await (current as FuzzLane | null)?.close();
  }
  for (const k of r.kept) writeFileSync(join(outDir, `${inputHash(k.input)}.json`), `${JSON.stringify(k.input)}\n`);
  if (!values.quiet) out(`packcheck fuzz --merge: ${r.considered} input(s) from ${inDirs.length} corpus(es), ${existing.length} already in ${outDir}; kept ${r.kept.length} new; ${outDir} now covers ${r.edges} edges (${r.features} edge×bucket features, ${r.features - r.featuresBefore} new)`);
  return 0;
}
