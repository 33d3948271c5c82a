// Corpus mode: many packs per run. Paths are expanded (directories searched
// by magic bytes), split into shards by sorted path, and checked in parallel
// warm child processes, each running `packcheck FILE --json …` for one pack
// after another (./corpus-child.ts), so a pack that takes its checker down
// takes only that child (a fresh one checks the rest). Shard reports merge
// into the corpus@1 report an unsharded run would have given.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { track } from '../kernel/lifeline.ts';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kindOf } from './pack-file.ts';
import type { CorpusJob, CorpusJobDone } from './corpus-child.ts';
import { corpusReport } from '../report/json.ts';
import { familyOf, isExpected, isFailing, TOOL, summarize, type PackReport, type PropertyResult, type RunOptions } from '../report/model.ts';

const CHILD = fileURLToPath(new URL('./corpus-child-entry.mjs', import.meta.url));

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
  /** Called with each child process started (its pid), the replacements of dead ones too. */
  onChild?: (pid: number) => void;
}

/**
 * A warm child process (./corpus-child.ts): it checks one pack at a time and
 * stays for the next, so a corpus pays process start and module loading once
 * per lane instead of once per pack.
 */
class WarmChild {
  private readonly proc: ChildProcess;
  private readonly ready: Promise<boolean>;
  private waiting: ((d: CorpusJobDone | { died: string }) => void) | null = null;
  /** The end of the child's own stderr (what a dying pack or runtime printed). */
  private stderrTail = '';
  dead = false;

  constructor() {
    this.proc = track(fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, NO_COLOR: '1' }, execArgv: [] }));
    this.proc.stderr!.on('data', (b: Buffer) => (this.stderrTail = (this.stderrTail + b.toString()).slice(-4000)));
    let started: (ok: boolean) => void;
    this.ready = new Promise((r) => (started = r));
    this.proc.on('message', (m: CorpusJobDone) => {
      if (m.code === -1) return started(true);
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    this.proc.on('exit', (code, signal) => {
      this.dead = true;
      started(false);
      const w = this.waiting;
      this.waiting = null;
      w?.({ died: `exit ${code ?? signal}` });
    });
  }

  /** Runs the CLI on one pack in the child; `died` when the child ended before answering. */
  async check(argv: string[]): Promise<CorpusJobDone | { died: string; stderr: string }> {
    if (!(await this.ready) || this.dead) return { died: 'the child process ended before the check started', stderr: this.stderrTail };
    this.stderrTail = '';
    const done = await new Promise<CorpusJobDone | { died: string }>((resolve) => {
      this.waiting = resolve;
      this.proc.send({ argv } satisfies CorpusJob);
    });
    // Give the pipe a moment to deliver the last words of a child that died.
    if ('died' in done && !this.proc.stderr!.closed) await Promise.race([once(this.proc.stderr!, 'close'), new Promise((r) => setTimeout(r, 1000))]);
    return 'died' in done ? { ...done, stderr: this.stderrTail } : done;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  stop(): void {
    if (!this.dead) this.proc.kill();
  }
}

/** Checks every file in parallel warm children; reports come back in sorted-path order. */
export async function checkCorpus(files: string[], opts: CorpusOptions): Promise<PackReport[]> {
  const sorted = [...files].sort();
  const tmp = mkdtempSync(join(tmpdir(), 'packcheck-corpus-'));
  const reports: PackReport[] = new Array(sorted.length);
  let next = 0;
  let done = 0;
  const one = async (child: WarmChild, i: number) => {
    const path = sorted[i]!;
    const json = join(tmp, `${i}.json`);
    const answer = await child.check([path, '--json', json, '--quiet', '--jobs', '1', ...opts.childArgs]);
    const code = 'died' in answer ? null : answer.code;
    let rep: PackReport;
    if (code === 2) rep = loadFailure(path, answer.stderr.trim().split('\n')[0]!.replace(/^packcheck: /, '') || 'could not be loaded as a pack', 'harness.load', opts.options);
    else {
      try {
        rep = JSON.parse(readFileSync(json, 'utf8')) as PackReport;
      } catch {
        const why = 'died' in answer ? answer.died : `exit ${code}`;
        rep = loadFailure(path, `the checker of this pack died (${why}) before writing its report: ${answer.stderr.trim().split('\n').pop() ?? ''}`, 'harness.crash', opts.options);
      }
    }
    reports[i] = rep;
    opts.onPack?.(rep, ++done, sorted.length);
  };
  const start = () => {
    const c = new WarmChild();
    if (c.pid !== undefined) opts.onChild?.(c.pid);
    return c;
  };
  const lane = async () => {
    let child = start();
    try {
      for (let i = next++; i < sorted.length; i = next++) {
        // A child a pack took down is replaced: the next pack gets a fresh process.
        if (child.dead) child = start();
        await one(child, i);
      }
    } finally {
      child.stop();
    }
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
