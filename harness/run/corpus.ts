// Corpus mode: many packs per run. Paths are expanded (directories searched
// by magic bytes), split into shards by sorted path, and checked in parallel
// child processes, each a `packcheck FILE --json …` of its own, so a pack
// that takes its checker down takes only that child. Shard reports merge
// into the corpus@1 report an unsharded run would have given.
import { execFile } from 'node:child_process';
import { track } from '../kernel/lifeline.ts';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kindOf } from './pack-file.ts';
import { corpusReport } from '../report/json.ts';
import { familyOf, isExpected, isFailing, TOOL, summarize, type PackReport, type PropertyResult, type RunOptions } from '../report/model.ts';

const BIN = fileURLToPath(new URL('../../bin/packcheck.js', import.meta.url));

async function looksLikePack(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    return kindOf(head) !== null;
  } finally {
    await fh.close();
  }
}

/** Files to check: explicit paths as given (missing ones too: they fail harness.load), directories searched for packs. */
export async function expandPaths(paths: string[]): Promise<string[]> {
  const out = new Set<string>();
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await looksLikePack(p))) out.add(p);
    }
  };
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // missing: kept, reported as harness.load
    }
    if (isDir) await walk(p);
    else out.add(p);
  }
  return [...out];
}

/** Shard K of N: a stable split of the sorted paths into N contiguous parts. */
export function shardOf(files: string[], k: number, n: number): string[] {
  const sorted = [...files].sort();
  const size = Math.ceil(sorted.length / n);
  return sorted.slice((k - 1) * size, k * size);
}

function loadFailure(path: string, message: string, id: 'harness.load' | 'harness.crash', options: RunOptions): PackReport {
  const results: PropertyResult[] = [{ id, status: 'failed', runs: 0, durationMs: 0, message, seed: options.seed }];
  return { schema: 'packcheck/report@1', tool: TOOL, pack: { path, sha256: '', abi: null, abiVersion: null, templates: [], imports: [] }, options, results, summary: summarize(results, 0), exitCode: 1 };
}

export interface CorpusOptions {
  /** The check's own flags, passed to every child (`--seed`, `--runs`, …). */
  childArgs: string[];
  options: RunOptions;
  jobs: number;
  onPack?: (r: PackReport, done: number, total: number) => void;
}

/** Checks every file in parallel children; reports come back in sorted-path order. */
export async function checkCorpus(files: string[], opts: CorpusOptions): Promise<PackReport[]> {
  const sorted = [...files].sort();
  const tmp = mkdtempSync(join(tmpdir(), 'packcheck-corpus-'));
  const reports: PackReport[] = new Array(sorted.length);
  let next = 0;
  let done = 0;
  const one = (i: number) =>
    new Promise<void>((resolveOne) => {
      const path = sorted[i]!;
      const json = join(tmp, `${i}.json`);
      track(execFile(process.execPath, [BIN, path, '--json', json, '--quiet', '--jobs', '1', ...opts.childArgs], { maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } }, (err, _stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? null) : 0;
        let rep: PackReport;
        if (code === 2) rep = loadFailure(path, stderr.trim().split('\n')[0]!.replace(/^packcheck: /, '') || 'could not be loaded as a pack', 'harness.load', opts.options);
        else {
          try {
            rep = JSON.parse(readFileSync(json, 'utf8')) as PackReport;
          } catch {
            rep = loadFailure(path, `the checker of this pack died (exit ${code ?? (err as { signal?: string })?.signal}) before writing its report: ${stderr.trim().split('\n').pop() ?? ''}`, 'harness.crash', opts.options);
          }
        }
        reports[i] = rep;
        opts.onPack?.(rep, ++done, sorted.length);
        resolveOne();
      }));
    });
  const lane = async () => {
    for (let i = next++; i < sorted.length; i = next++) await one(i);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, sorted.length)) }, lane));
  rmSync(tmp, { recursive: true, force: true });
  return reports;
}

export type CorpusReport = ReturnType<typeof corpusReport>;

/** Joins shard reports (corpus@1, or report@1) into one corpus@1 in sorted-path order. */
export function mergeReports(files: string[]): CorpusReport {
  const reports: PackReport[] = [];
  let options: RunOptions | null = null;
  for (const f of files) {
    const j = JSON.parse(readFileSync(f, 'utf8')) as PackReport & { reports?: Omit<PackReport, 'tool' | 'options'>[] };
    const schema: string = j.schema;
    if (schema === 'packcheck/corpus@1') {
      options ??= j.options;
      for (const r of j.reports!) reports.push({ ...r, tool: TOOL, options: j.options } as PackReport);
    } else if (schema === 'packcheck/report@1') {
      options ??= j.options;
      reports.push(j);
    } else throw new Error(`${f} is not a packcheck report (schema ${JSON.stringify(schema)})`);
  }
  reports.sort((a, b) => (a.pack.path < b.pack.path ? -1 : a.pack.path > b.pack.path ? 1 : 0));
  const durationMs = reports.reduce((s, r) => s + r.summary.durationMs, 0);
  return corpusReport(reports, options ?? { seed: 0, runs: 0, timeoutMs: 0, profile: 'sdk' }, durationMs);
}


/** The terminal's pack × family matrix. */
export function familyMatrix(reports: PackReport[], cwd = process.cwd()): string {
  const families = [...new Set(reports.flatMap((r) => r.results.map((x) => familyOf(x.id))))];
  const name = (r: PackReport) => relative(cwd, resolve(r.pack.path)) || r.pack.path;
  const width = Math.min(48, Math.max(4, ...reports.map((r) => name(r).length)));
  const cell = (r: PackReport, fam: string) => {
    const rs = r.results.filter((x) => familyOf(x.id) === fam);
    if (!rs.length) return '·';
    const bad = rs.filter(isFailing).length;
    if (bad) return `✗${bad}`;
    if (rs.some(isExpected)) return 'x';
    return rs.every((x) => x.status === 'skipped') ? 's' : '✓';
  };
  const colW = families.map((f) => Math.max(f.length, 3));
  const lines = [`${'pack'.padEnd(width)}  ${families.map((f, i) => f.padEnd(colW[i]!)).join(' ')}`];
  for (const r of reports) lines.push(`${name(r).slice(-width).padEnd(width)}  ${families.map((f, i) => cell(r, f).padEnd(colW[i]!)).join(' ')}`);
  lines.push('(✓ all passed, ✗N N failed or errored, x expected failures only (--expect), s all skipped, · not applicable)');
  return lines.join('\n');
}
