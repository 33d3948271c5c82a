// The renderers of a comparison (compare-model.ts): the terminal table, JUnit
// (one testcase per change; newly failing ones are <failure>s, newly skipped
// or blocked ones <skipped>) and the HTML section.
import type { Change, Comparison } from './compare-model.ts';
import { escapeAttr, escapeText, failureBody } from './junit.ts';
import { escapeHtml as e } from './html.ts';

const what = (c: Change) => `${c.id ?? '(pack)'}${c.target ? ` [${c.target}]` : ''}`;

export function compareLines(cmp: Comparison): string[] {
  const s = cmp.summary;
  const lines = [`packcheck compare ${cmp.base.file} → ${cmp.new.file} (${cmp.base.packs} → ${cmp.new.packs} pack(s))`];
  if (cmp.base.seed !== cmp.new.seed) lines.push(`  note: the seeds differ (${cmp.base.seed} → ${cmp.new.seed}): generated inputs differ too; run the new check with --baseline or --seed ${cmp.base.seed}`);
  if (!cmp.changes.length) lines.push('  no change');
  else {
    const kindW = Math.max(...cmp.changes.map((c) => c.kind.length));
    const packW = Math.min(48, Math.max(...cmp.changes.map((c) => c.pack.length)));
    const idW = Math.max(...cmp.changes.map((c) => what(c).length));
    for (const c of cmp.changes) lines.push(`  ${c.kind.padEnd(kindW)}  ${c.pack.slice(-packW).padEnd(packW)}  ${what(c).padEnd(idW)}  ${c.detail.split('\n', 1)[0]}`);
  }
  lines.push(`  ${s.newlyFailing} newly failing, ${s.fixed} fixed, ${s.stillFailingChanged} still failing but changed, ${s.newlySkipped} newly skipped, ${s.newlyBlocked} newly blocked, ${s.packAdded} pack(s) added, ${s.packRemoved} removed`);
  return lines;
}

const attrs = (a: Record<string, string | number>) =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');

function testcase(c: Change): string {
  const open = `    <testcase${attrs({ name: `${c.pack} ${what(c)}`, classname: `packcheck.compare.${c.kind}`, time: '0.000' })}`;
  if (c.kind === 'newly-failing') return `${open}>\n      <failure${attrs({ message: c.detail.split('\n', 1)[0]!, type: c.id ?? c.kind })}>${escapeText(c.new ? failureBody(c.new) : c.detail)}</failure>\n    </testcase>`;
  if (c.kind === 'newly-skipped' || c.kind === 'newly-blocked') return `${open}>\n      <skipped${attrs({ message: `${c.kind}: ${c.detail}` })}/>\n    </testcase>`;
  return `${open}>\n      <system-out>${escapeText(`${c.kind}: ${c.detail}`)}</system-out>\n    </testcase>`;
}

export function compareJUnit(cmp: Comparison): string {
  const failures = cmp.summary.newlyFailing;
  const skipped = cmp.summary.newlySkipped + cmp.summary.newlyBlocked;
  const counts = { tests: cmp.changes.length, failures, errors: 0, skipped, time: '0.000' };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'packcheck compare', ...counts })}>`,
    `  <testsuite${attrs({ name: `compare ${cmp.base.file} → ${cmp.new.file}`, id: 0, package: 'packcheck', ...counts })}>`,
    ...cmp.changes.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** The comparison as one section of the HTML report (placed before the new report's packs). */
export function compareSection(cmp: Comparison): string {
  const s = cmp.summary;
  const rows = cmp.changes.map(
    (c) => `<tr class="change ${c.kind}" data-kind="${c.kind}" data-pack="${e(c.pack)}" data-id="${e(c.id ?? '')}"><td>${e(c.kind)}</td><td class="id">${e(c.pack)}</td><td class="id">${e(what(c))}</td><td class="note">${e(c.detail)}</td></tr>`,
  );
  return [
    `<section class="pack compare" data-exit-code="${cmp.exitCode}">`,
    `<h2>compared with ${e(cmp.base.file)}</h2>`,
    `<div class="meta">${e(`${s.newlyFailing} newly failing, ${s.fixed} fixed, ${s.stillFailingChanged} still failing but changed, ${s.newlySkipped} newly skipped, ${s.newlyBlocked} newly blocked, ${s.packAdded} pack(s) added, ${s.packRemoved} removed`)}</div>`,
    rows.length
      ? `<table class="results"><thead><tr><th>change</th><th>pack</th><th>property</th><th>detail</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`
      : '<p class="empty">no change</p>',
    '</section>',
  ].join('\n');
}
