// Expected failures (REPORT.md, "Expected failures and baselines"): an
// expectations file (`packcheck/expect@1`) and a baseline report become one
// set of entries. A failing result an entry covers is marked `expected` and
// no longer fails the run; an entry of an expectations file that matched
// results of the run but none with its status is stale (an "unexpected pass")
// and fails it. Usage is counted per entry so that `merge` can decide
// staleness over the shards of one run, which no shard can alone.
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { ALL_IDS } from '../../properties/catalog.ts';
import { exitCodeOf, summarize, type PropertyResult, type Summary } from '../report/model.ts';

// picomatch (CommonJS, no bundled types): the one call used here, typed here.
// Node's own path.matchesGlob is experimental in Node 20 and warns on stderr.
const picomatch = createRequire(import.meta.url)('picomatch') as (glob: string, options?: { dot?: boolean }) => (path: string) => boolean;

export const EXPECT_SCHEMA = 'packcheck/expect@1';

/**
 * The reason `--write-expect` writes. `--expect` refuses it, so a file of
 * today's failures cannot be made to pass CI without a person saying why.
 */
export const PLACEHOLDER_REASON = 'TODO: say why this failure is expected (written by packcheck --write-expect; --expect refuses this text)';

export interface ExpectEntry {
  /** A path glob relative to the run's cwd (absolute globs match absolute paths), or a pack's sha256. */
  pack: string;
  /** Bundles: the target triple; without it the entry covers every target. */
  target?: string;
  /** An id, or a prefix of ids (`wasm.run` or `wasm.run.*`). */
  id: string;
  status: 'failed' | 'skipped';
  /** Fuzz findings: the artifact hash; such an entry covers that finding only, never a property result. */
  finding?: string;
  reason: string;
}

/** Bad expectations or baseline input: exit 2, with this one line. */
export class ExpectError extends Error {}

/** One entry as the set holds it: where it comes from, and, for a baseline pack, its recorded sha256. */
export interface Expectation {
  source: 'expect' | 'baseline';
  file: string;
  index: number;
  entry: ExpectEntry;
  /** Baseline entries: the pack's sha256, matched when no baseline pack has the run's path. */
  sha256?: string;
}

/** What one entry met in a run (or a shard): results it matched, and how many of those had its status. */
export interface EntryUse {
  source: Expectation['source'];
  file: string;
  index: number;
  entry: ExpectEntry;
  matched: number;
  satisfied: number;
  /** Decided once the whole run is seen: `held`, `stale` (an unexpected pass), `fixed` (a baseline failure that passes now), `unused` (matched nothing). */
  verdict?: 'held' | 'stale' | 'fixed' | 'unused';
}

/** The `expectations` member of a report@1 or corpus@1 (additive): entries with their use; `pending` in a shard, whose staleness `merge` decides. */
export interface ExpectationsSection {
  sources: string[];
  pending: boolean;
  entries: EntryUse[];
}

/** The pack (or host adapter) a result is about. */
export interface Subject {
  path: string;
  sha256: string;
}

const KEYS = new Set(['pack', 'target', 'id', 'status', 'finding', 'reason']);
const SHA256 = /^[0-9a-f]{64}$/i;

const describe = (e: Record<string, unknown>) =>
  ['pack', 'target', 'id', 'finding']
    .filter((k) => typeof e[k] === 'string')
    .map((k) => `${k} ${JSON.stringify(e[k])}`)
    .join(', ');

/** A known id or a prefix of known ids, as --only takes them. */
function knownId(id: string): boolean {
  const prefix = id.endsWith('.*') ? id.slice(0, -1) : `${id}.`;
  return ALL_IDS.some((k) => k === id || k.startsWith(prefix));
}

/** Validates an expect@1 document strictly; every refusal is one line naming the entry. */
export function parseExpectations(text: string, file: string): ExpectEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ExpectError(`${file}: not JSON (${(e as Error).message}); an expectations file is {"schema": "${EXPECT_SCHEMA}", "expect": [...]}`);
  }
  const d = doc as { schema?: unknown; expect?: unknown };
  if (typeof doc !== 'object' || doc === null || d.schema !== EXPECT_SCHEMA) throw new ExpectError(`${file}: schema ${JSON.stringify(d?.schema ?? null)} is not "${EXPECT_SCHEMA}"; see README, Regression runs`);
  if (!Array.isArray(d.expect)) throw new ExpectError(`${file}: "expect" must be an array of entries`);
  return d.expect.map((raw: unknown, i: number) => {
    const where = `${file}: entry ${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ExpectError(`${where} is not an object`);
    const e = raw as Record<string, unknown>;
    const named = `${where} (${describe(e) || 'no pack, no id'})`;
    const unknown = Object.keys(e).filter((k) => !KEYS.has(k));
    if (unknown.length) throw new ExpectError(`${named}: unknown member ${unknown.map((k) => JSON.stringify(k)).join(', ')}; an entry has pack, target, id, status, finding and reason`);
    for (const k of ['pack', 'id'] as const) if (typeof e[k] !== 'string' || !(e[k] as string).trim()) throw new ExpectError(`${named}: "${k}" must be a non-empty string`);
    for (const k of ['target', 'finding'] as const) if (e[k] !== undefined && (typeof e[k] !== 'string' || !(e[k] as string).trim())) throw new ExpectError(`${named}: "${k}", when given, must be a non-empty string`);
    if (!knownId(e.id as string)) throw new ExpectError(`${named}: unknown property id or prefix ${JSON.stringify(e.id)} (see packcheck --list)`);
    if (e.status !== 'failed' && e.status !== 'skipped') throw new ExpectError(`${named}: "status" must be "failed" or "skipped", got ${JSON.stringify(e.status ?? null)}`);
    if (e.finding !== undefined && e.status !== 'failed') throw new ExpectError(`${named}: a fuzz finding is expected with status "failed"`);
    if (typeof e.reason !== 'string' || !e.reason.trim()) throw new ExpectError(`${named}: no "reason"; say why this is expected (an issue link, a known bug)`);
    if (e.reason.trim() === PLACEHOLDER_REASON) throw new ExpectError(`${named}: the reason is still the placeholder --write-expect wrote; replace it with why this is expected`);
    return e as unknown as ExpectEntry;
  });
}

export function readExpectations(file: string): ExpectEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ExpectError(`--expect: cannot read ${file}; give the path of a ${EXPECT_SCHEMA} file`);
  }
  return parseExpectations(text, file);
}

/** A path as entries name it: relative to cwd with forward slashes, or absolute when it lies outside cwd. */
export function runPath(path: string, cwd: string): string {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  const p = !rel || rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
  return p.split(sep).join('/');
}

/** `wasm.run` and `wasm.run.*` cover `wasm.run.x`; an id covers itself. */
export function idCovers(pattern: string, id: string): boolean {
  if (pattern === id) return true;
  const prefix = pattern.endsWith('.*') ? pattern.slice(0, -1) : `${pattern}.`;
  return id.startsWith(prefix);
}

const statusOf = (r: PropertyResult): 'failed' | 'skipped' | null => (r.status === 'failed' || r.status === 'errored' ? 'failed' : r.status === 'skipped' ? 'skipped' : null);

/**
 * The expectations of one run: from --expect files and a --baseline. It is
 * asked about each subject's results (and fuzz findings) and counts what
 * each entry met.
 */
export class ExpectationSet {
  private readonly globs = new Map<string, (p: string) => boolean>();
  private readonly uses: EntryUse[];

  constructor(
    readonly entries: readonly Expectation[],
    readonly sources: readonly string[],
    /** The paths (as entries name them) of the baseline's packs: a baseline entry matches by sha256 only a pack whose path the baseline does not have. */
    private readonly baselinePaths: ReadonlySet<string> = new Set(),
    private readonly cwd = process.cwd(),
  ) {
    this.uses = entries.map((x) => ({ source: x.source, file: x.file, index: x.index, entry: x.entry, matched: 0, satisfied: 0 }));
  }

  private packMatches(x: Expectation, subject: Subject): boolean {
    const path = runPath(subject.path, this.cwd);
    if (x.source === 'baseline') return x.entry.pack === path || (!this.baselinePaths.has(path) && !!x.sha256 && x.sha256 === subject.sha256);
    const pattern = x.entry.pack;
    if (SHA256.test(pattern)) return !!subject.sha256 && pattern.toLowerCase() === subject.sha256.toLowerCase();
    let match = this.globs.get(pattern);
    if (!match) this.globs.set(pattern, (match = picomatch(pattern.replace(/^\.\//, ''), { dot: true })));
    return match(path);
  }

  private covers(x: Expectation, subject: Subject, r: PropertyResult): boolean {
    const e = x.entry;
    return e.finding === undefined && idCovers(e.id, r.id) && (e.target === undefined || r.target === e.target) && this.packMatches(x, subject);
  }

  /** The subject's results, each failing one an entry covers marked expected (with the first covering entry's reason); counts each entry's use. */
  cover(subject: Subject, results: readonly PropertyResult[]): PropertyResult[] {
    return results.map((r) => {
      let by: Expectation | undefined;
      this.entries.forEach((x, i) => {
        if (!this.covers(x, subject, r)) return;
        const use = this.uses[i]!;
        use.matched++;
        if (statusOf(r) !== x.entry.status) return;
        use.satisfied++;
        by ??= x.entry.status === 'failed' ? x : undefined;
      });
      return by ? { ...r, expected: true as const, expectation: by.entry.reason } : r;
    });
  }

  /**
   * The entry covering a fuzz finding (pack, id and artifact hash), or null.
   * A covering entry counts as matched and held; the fuzz command decides
   * what an entry whose finding was not found again means.
   */
  coverFinding(subject: Subject, id: string, artifactHash: string): ExpectEntry | null {
    const i = this.entries.findIndex((x) => x.entry.finding !== undefined && x.entry.finding.toLowerCase() === artifactHash.toLowerCase() && idCovers(x.entry.id, id) && this.packMatches(x, subject));
    if (i < 0) return null;
    this.uses[i]!.matched++;
    this.uses[i]!.satisfied++;
    return this.entries[i]!.entry;
  }

  /**
   * An expect@1 document for a run's failing results: the entries of the
   * expectations files that covered some of them are kept as they are (their
   * reasons stand), stale and unused ones are dropped, and every failure no
   * kept entry covers gets an entry of its own with the placeholder reason.
   */
  expectFile(subjects: readonly { subject: Subject; results: readonly PropertyResult[] }[]): { schema: string; expect: ExpectEntry[] } {
    const kept = this.entries.filter((x, i) => x.source === 'expect' && x.entry.status === 'failed' && this.uses[i]!.satisfied > 0);
    const added: ExpectEntry[] = [];
    for (const { subject, results } of subjects) {
      const path = runPath(subject.path, this.cwd);
      // A path with glob characters would match more than itself: named by content instead.
      const pack = /[*?[\]{}()!+@]/.test(path) && subject.sha256 ? subject.sha256 : path;
      for (const r of results) {
        if (statusOf(r) !== 'failed' || kept.some((x) => this.covers(x, subject, r))) continue;
        added.push({ pack, ...(typeof r.target === 'string' ? { target: r.target } : {}), id: r.id, status: 'failed', reason: PLACEHOLDER_REASON });
      }
    }
    return { schema: EXPECT_SCHEMA, expect: [...kept.map((x) => x.entry), ...added] };
  }

  /** The run's `expectations` section: decided here, or left `pending` for `merge` (a shard). */
  section(pending: boolean): ExpectationsSection {
    const entries = this.uses.map((u) => ({ ...u, entry: { ...u.entry } }));
    return pending ? { sources: [...this.sources], pending: true, entries } : decide({ sources: [...this.sources], pending: false, entries });
  }
}

/** For the fuzz command: the entry that covers a finding, or null when it is new. */
export function matchFinding(set: ExpectationSet, subject: Subject, id: string, artifactHash: string): ExpectEntry | null {
  return set.coverFinding(subject, id, artifactHash);
}

/** Verdicts over a whole run's use counts. */
export function decide(section: ExpectationsSection): ExpectationsSection {
  const entries = section.entries.map((u): EntryUse => {
    const verdict = u.matched === 0 ? 'unused' : u.satisfied > 0 ? 'held' : u.source === 'expect' ? 'stale' : 'fixed';
    return { ...u, verdict };
  });
  return { ...section, pending: false, entries };
}

/** Joins the sections of a run's shards (same entries, use counts summed) and decides. */
export function mergeSections(sections: readonly ExpectationsSection[]): ExpectationsSection {
  const [first, ...rest] = sections;
  if (!first) throw new ExpectError('no expectations to merge');
  const key = (u: EntryUse) => JSON.stringify([u.source, u.file, u.index, u.entry]);
  const entries = first.entries.map((u) => ({ ...u, verdict: undefined }));
  for (const s of rest) {
    if (s.entries.length !== entries.length || s.entries.some((u, i) => key(u) !== key(entries[i]!))) throw new ExpectError('the shards were run with different --expect/--baseline entries; run every shard with the same files');
    s.entries.forEach((u, i) => {
      entries[i]!.matched += u.matched;
      entries[i]!.satisfied += u.satisfied;
    });
  }
  return decide({ sources: first.sources, pending: false, entries });
}

/** The entries a decided section calls stale: each an unexpected pass. */
export const staleEntries = (s: ExpectationsSection | undefined): EntryUse[] => (s && !s.pending ? s.entries.filter((u) => u.verdict === 'stale') : []);

/** What an unexpected pass is: the stale entry, and that it is to be removed. */
export function staleLine(u: EntryUse): string {
  const e = u.entry;
  const what = [`pack ${JSON.stringify(e.pack)}`, ...(e.target ? [`target ${JSON.stringify(e.target)}`] : []), `id ${JSON.stringify(e.id)}`, `status ${e.status}`].join(', ');
  return `${u.file} entry ${u.index} (${what}) matched ${u.matched} result(s), none ${e.status}: remove this entry from ${u.file}`;
}

interface Reported {
  results: PropertyResult[];
  summary: Summary;
  exitCode: 0 | 1;
  interrupted?: string;
}

/** A report with its results covered: the summary counts expected failures as xfail, and the exit code no longer counts them. */
export function coverReport<R extends Reported>(set: ExpectationSet, subject: Subject, rep: R): R {
  const results = set.cover(subject, rep.results);
  const summary: Summary = { ...summarize(results, rep.summary.durationMs), xfail: results.filter((r) => r.expected).length };
  return { ...rep, results, summary, exitCode: rep.interrupted ? 1 : exitCodeOf(results) };
}

/**
 * The run's JSON (report@1 or corpus@1) with its `expectations` section.
 * Decided (not a shard): each stale entry is an unexpected pass that fails
 * the run. A shard leaves the section pending for `merge`.
 */
export function withExpectations<J extends { summary: Summary; exitCode: number }>(json: J, section: ExpectationsSection): J & { expectations: ExpectationsSection } {
  const stale = staleEntries(section).length;
  const summary: Summary = { ...json.summary, xfail: json.summary.xfail ?? 0, ...(section.pending ? {} : { unexpectedPass: stale }) };
  return { ...json, summary, exitCode: json.exitCode || (stale ? 1 : 0), expectations: section };
}
