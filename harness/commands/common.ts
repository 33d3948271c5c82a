// What the subcommands share: the progress line and the report files.
import { writeFileSync } from 'node:fs';
import { toJUnit } from '../report/junit.ts';
import { toHtml } from '../report/html.ts';
import { writeJson } from '../report/json.ts';
import type { PackReport } from '../report/model.ts';
import type { HostReport } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import { readBaseline } from '../run/baseline.ts';
import { ExpectationSet, ExpectError, readExpectations, staleEntries, staleLine, type Expectation, type ExpectationsSection, type Subject } from '../run/expect.ts';

/** The live progress line: on a TTY stderr only, and not with --quiet. */
export class Progress {
  private readonly on: boolean;
  private readonly t0 = performance.now();
  constructor(quiet: boolean) {
    this.on = !quiet && Boolean(process.stderr.isTTY);
  }
  show(text: string): void {
    if (this.on) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 12)} ${((performance.now() - this.t0) / 1000).toFixed(1)}s`);
  }
  clear(): void {
    if (this.on) process.stderr.write('\r\x1b[K');
  }
}

/** Writes --json/--junit/--html; false (after one line on stderr) when a file cannot be written. */
export function writeOutputs(parsed: Parsed, json: unknown, reports: (PackReport | HostReport)[], err: Out): boolean {
  // Stale expectations fail the run: JUnit and HTML show them too.
  const stale = staleEntries((json as { expectations?: ExpectationsSection } | null)?.expectations);
  const outputs: [string | undefined, () => void][] = [
    [parsed.json, () => writeJson(parsed.json!, json)],
    [parsed.junit, () => writeFileSync(parsed.junit!, toJUnit(reports, { stale }))],
    [parsed.html, () => writeFileSync(parsed.html!, toHtml(reports, { stale }))],
  ];
  return writeFiles(outputs, err);
}

/** Writes each [file, writer] whose file was asked for; false (after one line on stderr) at the first that cannot be written. */
export function writeFiles(outputs: [string | undefined, () => void][], err: Out): boolean {
  for (const [file, write] of outputs) {
    if (!file) continue;
    try {
      write();
    } catch (e) {
      err(`packcheck: cannot write ${file}: ${(e as Error).message}`);
      return false;
    }
  }
  return true;
}

/**
 * The run's expectations (--expect files, --baseline), or null without them.
 * A baseline also gives the seed, unless --seed was given. A file that cannot
 * be used is 'refused', after one line on stderr (the run exits 2).
 */
export function loadExpectations(parsed: Parsed, err: Out): ExpectationSet | null | 'refused' {
  try {
    return readExpectationSet(parsed);
  } catch (e) {
    if (!(e instanceof ExpectError)) throw e;
    err(`packcheck: ${e.message}`);
    return 'refused';
  }
}

function readExpectationSet(parsed: Parsed): ExpectationSet | null {
  if (!parsed.expect.length && !parsed.baseline) return null;
  const entries: Expectation[] = [];
  for (const file of parsed.expect) entries.push(...readExpectations(file).map((entry, index) => ({ source: 'expect' as const, file, index, entry })));
  const baseline = parsed.baseline ? readBaseline(parsed.baseline) : null;
  if (baseline) {
    entries.push(...baseline.entries);
    if (!parsed.seedGiven) parsed.opts.seed = baseline.seed;
  }
  return new ExpectationSet(entries, [...parsed.expect, ...(baseline ? [`baseline ${baseline.file}`] : [])], baseline?.paths);
}

/** The terminal lines of a decided expectations section: each unexpected pass, and the baseline failures fixed since. */
export function expectationLines(section: ExpectationsSection | undefined): string[] {
  if (!section || section.pending) return section?.pending ? ['  expectations: unexpected passes are decided by packcheck merge over all shards'] : [];
  const lines = staleEntries(section).map((u) => `  UNEXPECTED PASS  ${staleLine(u)}`);
  const fixed = section.entries.filter((u) => u.verdict === 'fixed');
  for (const u of fixed) lines.push(`  fixed since the baseline: ${u.entry.pack}${u.entry.target ? ` [${u.entry.target}]` : ''} ${u.entry.id}`);
  return lines;
}

/** --write-expect: writes the expect@1 file of the run's failures; false (after one line on stderr) when it cannot be written. */
export function writeExpectFile(parsed: Parsed, set: ExpectationSet | null, subjects: { subject: Subject; results: PackReport['results'] }[], out: Out, err: Out): boolean {
  if (!parsed.writeExpect) return true;
  const doc = (set ?? new ExpectationSet([], [])).expectFile(subjects);
  try {
    writeJson(parsed.writeExpect, doc);
  } catch (e) {
    err(`packcheck: cannot write ${parsed.writeExpect}: ${(e as Error).message}`);
    return false;
  }
  if (!parsed.quiet) out(`packcheck: wrote ${doc.expect.length} expectation(s) to ${parsed.writeExpect}; replace each placeholder reason before using it with --expect`);
  return true;
}
