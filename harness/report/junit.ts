// The JUnit XML renderer: the common dialect Jenkins, GitLab and the GitHub
// test reporters read (../shared/REPORT.md maps the statuses). One
// <testsuite> per pack, host, and bundle target; one <testcase> per result.
import { countStatuses, familyOf, type PackReport, type PropertyResult } from './model.ts';
import type { HostReport } from '../run/host-runner.ts';
import { staleLine, type EntryUse } from '../run/expect.ts';

export type AnyReport = PackReport | HostReport;

/** The path a report is about: the pack's, or the host adapter's. */
export function subjectPath(rep: AnyReport): string {
  return 'pack' in rep ? rep.pack.path : rep.host.path;
}

/** A report split by bundle target: archive-level (or non-bundle) results first, then one group per target triple. */
export interface ResultGroup {
  /** The target triple, or null for the pack itself (archive-level results, or a plain pack or host). */
  target: string | null;
  results: PropertyResult[];
}

export function groupByTarget(rep: AnyReport): ResultGroup[] {
  const own: PropertyResult[] = [];
  const byTarget = new Map<string, PropertyResult[]>();
  // Targets in manifest order, so that a target without results still shows.
  if ('pack' in rep) for (const t of rep.pack.targets ?? []) byTarget.set(t.triple, []);
  for (const r of rep.results) {
    if (typeof r.target === 'string') {
      let list = byTarget.get(r.target);
      if (!list) byTarget.set(r.target, (list = []));
      list.push(r);
    } else own.push(r);
  }
  const groups: ResultGroup[] = [];
  if (own.length || byTarget.size === 0) groups.push({ target: null, results: own });
  for (const [target, results] of byTarget) groups.push({ target, results });
  return groups;
}


/**
 * Makes a string safe for XML 1.0: characters the spec forbids (C0 controls
 * other than tab, newline and carriage return, lone surrogates, U+FFFE and
 * U+FFFF) become a visible `\uXXXX` so no information is silently lost, and
 * C1 controls too (legal but unreadable, and refused by some consumers).
 */
export function xmlSafe(s: string): string {
  return s.replace(/[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

export function escapeText(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** For a double-quoted attribute value; whitespace other than the space is kept as character references (attribute normalisation would fold it). */
export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

const seconds = (ms: number) => (Math.max(0, Number.isFinite(ms) ? ms : 0) / 1000).toFixed(3);

/** Counterexample as JSON a person reads; a string as it is. */
export function counterexampleJson(ce: unknown): string {
  if (typeof ce === 'string') return ce;
  try {
    return JSON.stringify(ce, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v), 2) ?? String(ce);
  } catch {
    return String(ce);
  }
}

function firstLine(s: string | undefined, fallback: string): string {
  const line = (s ?? '').split(/\r?\n|\r/, 1)[0]!.trim();
  return line || fallback;
}

/** The body of a <failure> or <error>: the full message, the counterexample and the replay line. */
export function failureBody(r: PropertyResult): string {
  const parts: string[] = [r.message ?? `${r.id} ${r.status}`];
  if (r.counterexample !== undefined) parts.push(`counterexample: ${counterexampleJson(r.counterexample)}`);
  if (typeof r.target === 'string') parts.push(`target: ${r.target}`);
  parts.push(`seed: ${r.seed}${r.path ? `, path: ${r.path}` : ''}`);
  if (r.replay) parts.push(`replay: ${r.replay}`);
  return parts.join('\n');
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function count(results: readonly PropertyResult[]): Counts {
  // An expected failure is a <skipped>, not a <failure>.
  const n = countStatuses(results.filter((r) => !r.expected));
  const xfail = results.length - results.filter((r) => !r.expected).length;
  return { tests: results.length, failures: n.failed, errors: n.errored, skipped: n.skipped + xfail, ms: results.reduce((ms, r) => ms + r.durationMs, 0) };
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');

function testcase(r: PropertyResult): string {
  const open = `    <testcase${attrs({ name: r.id, classname: `packcheck.${familyOf(r.id)}`, time: seconds(r.durationMs) })}`;
  if (r.expected) return `${open}>\n      <skipped${attrs({ message: `expected failure: ${firstLine(r.expectation, 'expected')}` })}>${escapeText(failureBody(r))}</skipped>\n    </testcase>`;
  switch (r.status) {
    case 'passed':
      return `${open}/>`;
    case 'skipped':
      return `${open}>\n      <skipped${attrs({ message: firstLine(r.message, 'skipped') })}/>\n    </testcase>`;
    case 'failed':
    case 'errored': {
      const tag = r.status === 'failed' ? 'failure' : 'error';
      const head = `<${tag}${attrs({ message: firstLine(r.message, r.status), type: r.id })}>`;
      return `${open}>\n      ${head}${escapeText(failureBody(r))}</${tag}>\n    </testcase>`;
    }
  }
}

function properties(rep: AnyReport, target: string | null): string {
  const p: [string, string | number][] = [
    ['seed', rep.options.seed],
    ['runs', rep.options.runs],
    ['timeoutMs', rep.options.timeoutMs],
    ['profile', rep.options.profile],
  ];
  if ('pack' in rep) {
    const t = target === null ? null : rep.pack.targets?.find((x) => x.triple === target);
    p.push(['abi', (t ? t.abi : rep.pack.abi) ?? 'unknown']);
    const v = t ? t.abiVersion : rep.pack.abiVersion;
    if (v !== null) p.push(['abiVersion', v]);
    if (rep.pack.sha256) p.push(['sha256', rep.pack.sha256]);
    if (t) p.push(['file', t.file]);
  } else p.push(['host', rep.host.path]);
  return `    <properties>\n${p.map(([name, value]) => `      <property${attrs({ name, value })}/>`).join('\n')}\n    </properties>`;
}

/** One testsuite of the expectations entries that are stale: each an unexpected pass, a <failure> naming the entry to remove. */
function staleSuite(stale: readonly EntryUse[], id: number): string {
  const cases = stale.map((u) => `    <testcase${attrs({ name: `${u.file} entry ${u.index}`, classname: 'packcheck.expectations', time: '0.000' })}>\n      <failure${attrs({ message: `unexpected pass: ${staleLine(u)}`, type: 'unexpected-pass' })}>${escapeText(staleLine(u))}</failure>\n    </testcase>`);
  return [`  <testsuite${attrs({ name: 'packcheck expectations', id, package: 'packcheck', tests: stale.length, failures: stale.length, errors: 0, skipped: 0, time: '0.000' })}>`, ...cases, '  </testsuite>'].join('\n');
}

export function toJUnit(reports: AnyReport[], opts: { name?: string; stale?: readonly EntryUse[] } = {}): string {
  const suites: string[] = [];
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  let id = 0;
  for (const rep of reports) {
    const path = subjectPath(rep);
    for (const g of groupByTarget(rep)) {
      const c = count(g.results);
      for (const k of ['tests', 'failures', 'errors', 'skipped', 'ms'] as const) total[k] += c[k];
      const name = g.target === null ? path : `${path} [${g.target}]`;
      const head = `  <testsuite${attrs({ name, id: id++, package: 'packcheck', tests: c.tests, failures: c.failures, errors: c.errors, skipped: c.skipped, time: seconds(c.ms) })}>`;
      suites.push([head, properties(rep, g.target), ...g.results.map(testcase), '  </testsuite>'].join('\n'));
    }
  }
  if (opts.stale?.length) {
    suites.push(staleSuite(opts.stale, id++));
    total.tests += opts.stale.length;
    total.failures += opts.stale.length;
  }
  const head = `<testsuites${attrs({ name: opts.name ?? 'packcheck', tests: total.tests, failures: total.failures, errors: total.errors, skipped: total.skipped, time: seconds(total.ms) })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, '</testsuites>', ''].join('\n');
}
