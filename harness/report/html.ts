// The HTML renderer: one self-contained file (inline CSS, no script, nothing
// fetched) with the totals, a table of results per pack and bundle target,
// the detail of every failure, and the memory timeline as an inline SVG.
import { countStatuses, isExpected, isFailing, STATUSES, type PropertyResult, type Status } from './model.ts';
import type { Sample } from '../hosts/wasm/ledger.ts';
import { counterexampleJson, groupByTarget, subjectPath, xmlSafe, type AnyReport } from './junit.ts';
import { staleLine, type EntryUse } from '../run/expect.ts';

/** HTML-escapes text (element content and double- or single-quoted attribute values alike). */
export function escapeHtml(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
const e = escapeHtml;

const LABEL: Record<Status, string> = { passed: 'pass', failed: 'FAIL', errored: 'ERROR', skipped: 'skip' };

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** Bytes in B, KiB, MiB or GiB, with at most two decimals. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${Number(v.toFixed(digits))} ${units[u]}`;
}

const CSS = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --err: #8250df; --skip: #9a6700; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; }
header.top { padding: 20px 28px; background: #fff; border-bottom: 1px solid var(--line); }
header.top h1 { margin: 0 0 8px; font-size: 22px; }
main { padding: 16px 28px 40px; }
.verdict { display: inline-block; padding: 3px 12px; border-radius: 14px; font-weight: 700; color: #fff; margin-right: 12px; }
.verdict.ok { background: var(--pass); } .verdict.bad { background: var(--fail); }
.totals { display: inline-flex; gap: 14px; flex-wrap: wrap; vertical-align: middle; }
.totals span { white-space: nowrap; } .totals b { font-variant-numeric: tabular-nums; }
section.pack { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 16px 0; padding: 14px 18px; }
section.pack h2 { margin: 0 0 4px; font-size: 16px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
section.pack h3 { margin: 14px 0 6px; font-size: 14px; }
.meta { color: var(--muted); font-size: 12px; margin: 2px 0 8px; word-break: break-all; }
table.results { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
col.c-status { width: 72px; } col.c-id { width: 290px; } col.c-runs { width: 70px; } col.c-time { width: 86px; }
table.results th, table.results td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
table.results th { font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
table.results td.num, table.results th.num { text-align: right; white-space: nowrap; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
td.note { overflow-wrap: anywhere; }
td.note { color: var(--muted); }
.badge { display: inline-block; min-width: 48px; text-align: center; padding: 0 6px; border-radius: 4px; font-size: 12px; font-weight: 700; color: #fff; }
.badge.passed { background: var(--pass); } .badge.failed { background: var(--fail); } .badge.errored { background: var(--err); } .badge.skipped { background: var(--skip); }
tr.result.failed td, tr.result.errored td { background: #fff5f5; }
tr.detail td { padding: 0 8px 10px 8px; background: #fff5f5; }
div.detail { border-left: 3px solid var(--fail); padding: 6px 10px; background: #fff; }
div.detail.errored { border-left-color: var(--err); }
div.detail pre { margin: 4px 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
div.detail .label { font-size: 11px; font-weight: 700; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; margin-top: 6px; }
pre.replay { background: #f6f8fa; padding: 4px 6px; border-radius: 4px; }
p.empty { color: var(--muted); font-style: italic; }
figure.timeline { margin: 12px 0 0; }
figure.timeline figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
svg.timeline { display: block; max-width: 100%; height: auto; background: #fff; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #57606a; }
svg.timeline .axis { stroke: #8c959f; stroke-width: 1; }
svg.timeline .grid { stroke: #eaeef2; stroke-width: 1; }
svg.timeline polyline { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg.timeline .mem { stroke: #0969da; } svg.timeline .held { stroke: #cf222e; }
svg.timeline text.mem { fill: #0969da; } svg.timeline text.held { fill: #cf222e; }
`;

function resultRows(r: PropertyResult): string {
  const note = r.expected ? `expected: ${r.expectation ?? ''}` : r.status === 'skipped' ? r.message ?? '' : r.status === 'passed' ? r.message ?? '' : (r.message ?? '').split('\n', 1)[0]!;
  const expected = r.expected ? ` data-expected="true"` : '';
  const label = r.expected ? 'xfail' : LABEL[r.status];
  const row =
    `<tr class="result ${r.status}" data-id="${e(r.id)}" data-status="${r.status}"${expected}>` +
    `<td><span class="badge ${r.expected ? 'skipped' : r.status}">${label}</span></td>` +
    `<td class="id">${e(r.id)}</td>` +
    `<td class="num">${r.runs}</td>` +
    `<td class="num">${fmtMs(r.durationMs)}</td>` +
    `<td class="note">${e(note)}</td></tr>`;
  if (r.status !== 'failed' && r.status !== 'errored') return row;
  const parts = [`<div class="label">message</div><pre class="message">${e(r.message ?? `${r.id} ${r.status}`)}</pre>`];
  if (r.counterexample !== undefined) parts.push(`<div class="label">counterexample</div><pre class="counterexample">${e(counterexampleJson(r.counterexample))}</pre>`);
  const where = [`seed ${r.seed}`, ...(r.path ? [`path ${r.path}`] : []), ...(typeof r.target === 'string' ? [`target ${r.target}`] : [])].join(', ');
  parts.push(`<div class="label">${e(where)}</div>`);
  if (r.replay) parts.push(`<div class="label">replay</div><pre class="replay">${e(r.replay)}</pre>`);
  return `${row}\n<tr class="detail" data-for="${e(r.id)}"><td colspan="5"><div class="detail ${r.status}">${parts.join('')}</div></td></tr>`;
}

function table(results: readonly PropertyResult[]): string {
  if (!results.length) return '<p class="empty">no results</p>';
  return [
    '<table class="results"><colgroup><col class="c-status"><col class="c-id"><col class="c-runs"><col class="c-time"><col class="c-note"></colgroup><thead><tr><th>status</th><th>property</th><th class="num">runs</th><th class="num">time</th><th>note</th></tr></thead><tbody>',
    ...results.map(resultRows),
    '</tbody></table>',
  ].join('\n');
}

/** Keeps at most `max` points, each bucket's highest sample, so a peak or a leak survives the thinning. */
function thin(samples: readonly Sample[], key: 'memBytes' | 'hostHeldBytes', max: number): Sample[] {
  if (samples.length <= max) return [...samples];
  const out: Sample[] = [];
  const per = samples.length / max;
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * per);
    const to = Math.max(from + 1, Math.floor((b + 1) * per));
    let best = samples[from]!;
    for (let i = from + 1; i < to && i < samples.length; i++) if (samples[i]![key] > best[key]) best = samples[i]!;
    out.push(best);
  }
  out.push(samples[samples.length - 1]!);
  return out;
}

/** The smallest power of two at or above v bytes, so that tick labels are round in KiB and MiB. */
function byteStep(v: number): number {
  return v > 1 ? 2 ** Math.ceil(Math.log2(v)) : 1;
}

/**
 * A y axis of four round steps. It starts at zero unless the series sits far
 * above it (memory that starts at 16 MiB and leaks a page every few hundred
 * calls): then it starts just below the lowest sample, so the climb fills the
 * plot instead of a few pixels at its top.
 */
export function byteAxis(values: readonly number[]): { lo: number; step: number } {
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  if (min <= 0 || max - min > max / 2) return { lo: 0, step: byteStep(max / 4) };
  let step = byteStep((max - min) / 4);
  for (;;) {
    const lo = Math.floor(min / step) * step;
    if (lo + 4 * step >= max) return { lo, step };
    step *= 2;
  }
}

const MAX_POINTS = 1500;

/** The memory timeline: memory size (left axis) and host-held bytes (right axis) over calls. */
export function timelineSvg(samples: readonly Sample[]): string {
  const pts = samples.filter((s) => Number.isFinite(s.call) && Number.isFinite(s.memBytes) && Number.isFinite(s.hostHeldBytes));
  const W = 760, H = 240, L = 80, R = 80, T = 16, B = 40;
  const pw = W - L - R, ph = H - T - B;
  const c0 = pts.length ? Math.min(...pts.map((s) => s.call)) : 0;
  const c1 = pts.length ? Math.max(...pts.map((s) => s.call)) : 1;
  const mem = byteAxis(pts.map((s) => s.memBytes));
  const held = byteAxis(pts.map((s) => s.hostHeldBytes));
  const x = (c: number) => L + (c1 === c0 ? pw / 2 : ((c - c0) / (c1 - c0)) * pw);
  const y = (v: number, a: { lo: number; step: number }) => T + ph - (Math.min(Math.max(v - a.lo, 0), 4 * a.step) / (4 * a.step)) * ph;
  const line = (key: 'memBytes' | 'hostHeldBytes', a: { lo: number; step: number }) =>
    thin(pts, key, MAX_POINTS)
      .map((s) => `${x(s.call).toFixed(1)},${y(s[key], a).toFixed(1)}`)
      .join(' ');
  const out: string[] = [];
  out.push(`<svg class="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="memory size and host-held bytes over calls">`);
  for (let i = 0; i <= 4; i++) {
    const gy = (T + (ph * i) / 4).toFixed(1);
    out.push(`<line class="grid" x1="${L}" x2="${L + pw}" y1="${gy}" y2="${gy}"/>`);
    out.push(`<text class="mem" x="${L - 6}" y="${gy}" text-anchor="end" dominant-baseline="middle">${e(fmtBytes(mem.lo + mem.step * (4 - i)))}</text>`);
    out.push(`<text class="held" x="${L + pw + 6}" y="${gy}" dominant-baseline="middle">${e(fmtBytes(held.lo + held.step * (4 - i)))}</text>`);
  }
  out.push(`<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}"/>`);
  out.push(`<line class="axis" x1="${L + pw}" x2="${L + pw}" y1="${T}" y2="${T + ph}"/>`);
  out.push(`<line class="axis" x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}"/>`);
  for (let i = 0; i <= 4; i++) {
    const c = c0 + ((c1 - c0) * i) / 4;
    out.push(`<text x="${x(c).toFixed(1)}" y="${T + ph + 14}" text-anchor="middle">${Math.round(c)}</text>`);
  }
  out.push(`<text x="${L + pw / 2}" y="${H - 6}" text-anchor="middle">calls</text>`);
  out.push(`<text class="mem" x="12" y="${T + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${T + ph / 2})">memory size</text>`);
  out.push(`<text class="held" x="${W - 12}" y="${T + ph / 2}" text-anchor="middle" transform="rotate(90 ${W - 12} ${T + ph / 2})">host-held bytes</text>`);
  if (pts.length) {
    out.push(`<polyline class="mem" data-series="memBytes" points="${line('memBytes', mem)}"><title>memory size</title></polyline>`);
    out.push(`<polyline class="held" data-series="hostHeldBytes" points="${line('hostHeldBytes', held)}"><title>host-held bytes</title></polyline>`);
  } else out.push(`<text x="${L + pw / 2}" y="${T + ph / 2}" text-anchor="middle">no samples</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function timelineFigure(samples: readonly Sample[]): string {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const caption =
    first && last
      ? `memory over ${last.call - first.call} calls (${samples.length} samples): memory size ${fmtBytes(first.memBytes)} → ${fmtBytes(last.memBytes)}, host-held ${fmtBytes(first.hostHeldBytes)} → ${fmtBytes(last.hostHeldBytes)}`
      : 'memory timeline: no samples';
  return `<figure class="timeline"><figcaption>${e(caption)}</figcaption>\n${timelineSvg(samples)}\n</figure>`;
}

/** Statuses counted as the summary counts them: an expected failure (xfail) apart, not as failed. */
const counts = (results: readonly PropertyResult[]): Record<Status, number> & { xfail: number } => ({ ...countStatuses(results.filter((r) => !isExpected(r))), xfail: results.filter(isExpected).length });

const countText = (c: Record<Status, number> & { xfail: number }) => [...STATUSES.map((s) => `${c[s]} ${s}`), ...(c.xfail ? [`${c.xfail} xfail`] : [])].join(', ');

function packSection(rep: AnyReport): string {
  const path = subjectPath(rep);
  const c = counts(rep.results);
  const ok = !rep.results.some(isFailing);
  const o = rep.options;
  const meta: string[] = [];
  if ('pack' in rep) {
    const p = rep.pack;
    meta.push(`abi ${p.abi ?? 'unknown'}${p.abiVersion !== null ? `, abi version ${p.abiVersion}` : ''}${p.sha256 ? `, sha256 ${p.sha256}` : ''}`);
    if (p.templates.length) meta.push(`templates: ${p.templates.map((t) => t.name).join(', ')}`);
    if (p.targets?.length) meta.push(`targets: ${p.targets.map((t) => `${t.triple} (${t.abi ?? '?'})`).join(', ')}`);
  } else meta.push('host adapter');
  meta.push(`seed ${o.seed}, ${o.runs} runs per property, timeout ${o.timeoutMs} ms per call, profile ${o.profile}`);
  const groups = groupByTarget(rep);
  const body = groups.map((g) => {
    const heading = g.target !== null ? `<h3>target ${e(g.target)} <span class="meta">${e(countText(counts(g.results)))}</span></h3>` : groups.length > 1 ? '<h3>archive</h3>' : '';
    return `<div class="target" data-target="${e(g.target ?? '')}">${heading}\n${table(g.results)}</div>`;
  });
  const timeline = rep.timeline?.length ? timelineFigure(rep.timeline) : '';
  return [
    `<section class="pack" data-path="${e(path)}" data-exit-code="${rep.exitCode}">`,
    `<h2>${'pack' in rep ? '' : 'host '}${e(path)}</h2>`,
    `<div class="meta"><span class="verdict ${ok ? 'ok' : 'bad'}">${ok ? 'conforms' : 'does not conform'}</span>${e(countText(c))} in ${e(fmtMs(rep.summary.durationMs))}</div>`,
    ...meta.map((m) => `<div class="meta">${e(m)}</div>`),
    ...body,
    timeline,
    '</section>',
  ].join('\n');
}

/** The expectations entries that are stale: each an unexpected pass that fails the run. */
function staleSection(stale: readonly EntryUse[]): string {
  return [`<section class="pack expectations" data-stale="${stale.length}">`, '<h2>unexpected passes</h2>', ...stale.map((u) => `<div class="detail failed"><pre class="message">${e(`unexpected pass: ${staleLine(u)}`)}</pre></div>`), '</section>'].join('\n');
}

/** The document's start up to <body>: inline style, and a policy that lets nothing be fetched. */
export function pageHead(title: string): string[] {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may be fetched: no script, no style, no image from anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${e(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
  ];
}

export function toHtml(reports: AnyReport[], opts: { title?: string; stale?: readonly EntryUse[]; before?: string[] } = {}): string {
  const title = opts.title ?? 'packcheck report';
  const all = reports.flatMap((r) => r.results);
  const c = counts(all);
  const ok = !all.some(isFailing) && !opts.stale?.length;
  const bad = reports.filter((r) => r.results.some(isFailing)).length;
  const ms = reports.reduce((a, r) => a + (Number.isFinite(r.summary.durationMs) ? r.summary.durationMs : 0), 0);
  const verdict = !reports.length ? 'nothing checked' : ok ? (reports.length === 1 ? 'conforms' : 'all conform') : `${bad} of ${reports.length} ${bad === 1 ? 'does' : 'do'} not conform`;
  const totals = [
    `<span>${reports.length} ${reports.length === 1 ? 'pack' : 'packs'}</span>`,
    `<span><b>${all.length}</b> results</span>`,
    ...STATUSES.map((s) => `<span class="total-${s}"><span class="badge ${s}">${LABEL[s]}</span> <b>${c[s]}</b> ${s}</span>`),
    ...(c.xfail ? [`<span class="total-xfail"><span class="badge skipped">xfail</span> <b>${c.xfail}</b> expected failures</span>`] : []),
    `<span>${e(fmtMs(ms))}</span>`,
  ];
  return [
    ...pageHead(title),
    `<header class="top"><h1>${e(title)}</h1>`,
    `<div class="summary" data-exit-code="${ok ? 0 : 1}"><span class="verdict ${ok ? 'ok' : 'bad'}">${e(verdict)}</span><span class="totals">${totals.join('')}</span></div>`,
    '</header>',
    '<main>',
    ...(opts.before ?? []),
    ...(opts.stale?.length ? [staleSection(opts.stale)] : []),
    ...(reports.length ? reports.map(packSection) : ['<p class="empty">no packs were checked</p>']),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
