// A fuzz campaign as one self-contained HTML page (the battery report's
// style, no script, nothing fetched): the campaign's figures, the coverage
// over time as an inline SVG (edges covered against executions), and each
// finding with its input and replay line.
import { escapeHtml as e, pageHead } from './html.ts';
import type { FuzzReport } from './fuzz-report.ts';

const W = 720;
const H = 240;
const PAD = { left: 56, right: 16, top: 12, bottom: 34 };

/** A step-free polyline of edges against executions, with both axes labelled. */
export function coverageSvg(points: readonly { execs: number; edges: number }[], totalEdges: number): string {
  const maxX = Math.max(1, ...points.map((p) => p.execs));
  const maxY = Math.max(1, totalEdges, ...points.map((p) => p.edges));
  const x = (v: number) => PAD.left + (v / maxX) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / maxY) * (H - PAD.top - PAD.bottom);
  const ticks = (max: number) => [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * max));
  const line = points.map((p) => `${x(p.execs).toFixed(1)},${y(p.edges).toFixed(1)}`).join(' ');
  return [
    `<svg class="timeline coverage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="edges covered against executions">`,
    ...ticks(maxY).map((v) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`),
    ...ticks(maxX).map((v) => `<text x="${x(v).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${v}</text>`),
    `<line class="axis" x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}"/>`,
    `<line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}"/>`,
    `<text x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">executions</text>`,
    `<text x="12" y="${PAD.top + 8}">edges (of ${totalEdges})</text>`,
    points.length ? `<polyline class="mem" data-points="${points.length}" points="${line}"/>` : '',
    '</svg>',
  ].join('\n');
}

function findingSection(f: FuzzReport['findings'][number]): string {
  const expected = 'expected' in f;
  return [
    `<tr class="result ${expected ? 'skipped' : 'failed'} finding"><td><span class="badge ${expected ? 'skipped' : 'failed'}">${expected ? 'xfail' : 'FAIL'}</span></td><td class="id">${e(f.id)}</td><td class="num">${f.foundAtExec}</td><td class="note">${e(expected ? `expected: ${f.expectation}` : f.message.split('\n', 1)[0]!)}</td></tr>`,
    `<tr class="detail"><td colspan="4"><div class="detail"><div class="label">what happened</div><pre class="message">${e(f.message)}</pre><div class="label">input (${f.input.ticks.length} tick(s) on ${e(f.input.template)})</div><pre class="counterexample">${e(JSON.stringify(f.input, null, 1))}</pre><div class="label">artifact</div><pre>${e(f.artifact)}</pre><div class="label">replay</div><pre class="replay">${e(f.replay)}</pre></div></td></tr>`,
  ].join('\n');
}

export function fuzzHtml(rep: FuzzReport): string {
  const s = rep.stats;
  const counted = rep.findings.filter((f) => !('expected' in f)).length;
  const ok = rep.exitCode === 0;
  const title = `packcheck fuzz ${rep.pack.path}`;
  const verdict = counted ? `${counted} finding(s)` : rep.findings.length ? 'only expected findings' : 'no findings';
  const facts = [
    `${s.execs} executions in ${(s.durationMs / 1000).toFixed(1)} s (${s.execsPerSec}/s)`,
    `edges ${s.edges.covered}/${s.edges.total}`,
    `corpus ${s.corpus}`,
    `seed ${rep.options.seed}`,
    `${rep.options.jobs} job(s)`,
    `dictionary ${rep.options.dict ? 'on' : 'off'}${rep.options.dictFile ? ` + ${rep.options.dictFile}` : ''}`,
    `CmpLog ${rep.options.cmplog ? 'on' : 'off'}`,
    ...(rep.options.feedback === false ? ['coverage feedback off'] : []),
  ];
  return [
    ...pageHead(title),
    `<header class="top"><h1>${e(title)}</h1>`,
    `<div class="summary" data-exit-code="${rep.exitCode}"><span class="verdict ${ok ? 'ok' : 'bad'}">${e(verdict)}</span><span class="totals">${facts.map((f) => `<span>${e(f)}</span>`).join('')}</span></div>`,
    '</header>',
    '<main>',
    '<section class="pack coverage">',
    '<h2>coverage over time</h2>',
    `<figure class="timeline"><figcaption>edges covered (any hit count) against executions</figcaption>${coverageSvg(rep.coverage, s.edges.total)}</figure>`,
    '</section>',
    `<section class="pack findings" data-findings="${rep.findings.length}">`,
    '<h2>findings</h2>',
    rep.findings.length
      ? `<table class="results"><colgroup><col class="c-status"><col class="c-id"><col class="c-runs"><col></colgroup><thead><tr><th>verdict</th><th>id</th><th class="num">found at</th><th>what</th></tr></thead><tbody>\n${rep.findings.map(findingSection).join('\n')}\n</tbody></table>`
      : '<p class="empty">no findings</p>',
    '</section>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
