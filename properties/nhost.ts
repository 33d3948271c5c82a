// The nhost.* properties (PROPERTIES.md, "Native host conformance"): each
// judged from the records of the scenarios it needs (the adapter's events,
// what the probe packs received, the allocation tracker's counts the probes
// report), never from the adapter's stdout or stderr. The runner
// (harness/run/nhost-runner.ts) settles hangs, crashes and malformed events
// before a property is asked: a property sees records it may judge.
import type { AdapterEvent, ScenarioRecord, ProbeLine } from '../harness/hosts/native/probes/events.ts';
import { SCENARIOS, type ScenarioName } from '../harness/hosts/native/probes/probe-packs.ts';
import type { Violated } from '../harness/report/model.ts';
import type { NHostPropertyId } from './catalog.ts';
import { defineProperty, type Defined, type Property } from './define.ts';
import type { Outcome } from './types.ts';

export interface NHostContext {
  /** The records of the scenarios that ran (a property's own scenarios are all here, whole). */
  records: Partial<Record<ScenarioName, ScenarioRecord>>;
}

export interface NHostProperty extends Property<NHostContext, NHostPropertyId> {
  /** The scenarios whose whole record it needs: one cut off or with malformed events leaves it unjudged. */
  readonly scenarios: readonly ScenarioName[];
  /** Scenarios that exist to check it: their process hanging or dying is its failure. */
  readonly owns: readonly ScenarioName[];
  /** Whether it also reads what every other scenario's probes received (as far as they got). */
  readonly readsAll?: boolean;
  /** Judged from records already made: no call into anything, so no promise. */
  check(ctx: NHostContext & { id: string }): Outcome;
}

/** One registration as its probe saw it. */
interface Block {
  probe: string;
  label: string;
  /** The host's answer; null when register_template never returned. */
  status: number | null;
  /** Whether it was registered with a drop function (a null one is never to be called). */
  hasDrop: boolean;
  drops: number;
  /** Frees the tracker saw of the block (the probe never frees one); null when not reported. */
  frees: number | null;
}

const linesOf = (r: ScenarioRecord, probe: string, ev?: string): ProbeLine[] => r.probe.filter((l) => l.probe === probe && (ev === undefined || l.ev === ev));

function blocksOf(r: ScenarioRecord): Block[] {
  const blocks = new Map<string, Block>();
  const key = (l: ProbeLine) => `${l.probe}#${String(l.block)}`;
  for (const l of r.probe) {
    if (l.ev === 'call') blocks.set(key(l), { probe: l.probe, label: String(l.label), status: null, hasDrop: l.drop === true, drops: 0, frees: null });
    const b = blocks.get(key(l));
    if (!b) continue;
    if (l.ev === 'answer') b.status = Number(l.status);
    if (l.ev === 'drop') b.drops = Number(l.drops);
    if (l.ev === 'heap') b.frees = Number(l.frees) >= 0 ? Number(l.frees) : null;
  }
  return [...blocks.values()];
}

const pathOf = (r: ScenarioRecord, probe: string) => r.packs.find((p) => p.probe === probe)!.path;
type Ev<K extends AdapterEvent['ev']> = Extract<AdapterEvent, { ev: K }>;
const eventsOf = <K extends AdapterEvent['ev']>(r: ScenarioRecord, ev: K, path: string, name?: string): Ev<K>[] =>
  r.events.filter((e): e is Ev<K> => e.ev === ev && e.path === path && (name === undefined || (e as { name?: string }).name === name));
const loadsOf = (r: ScenarioRecord, path: string) => eventsOf(r, 'load', path);
const namesListed = (r: ScenarioRecord, path: string) => r.events.flatMap((e) => (e.ev === 'template' && e.path === path ? [e.name] : []));
const idsOf = (probe: string) => Object.values(SCENARIOS).flat().find((p) => p.name === probe)!.registrations.map((g) => new TextDecoder().decode(g.id ?? new Uint8Array()));
const loadWord = (r: ScenarioRecord, path: string) => {
  const l = loadsOf(r, path);
  return l.length === 0 ? 'no "load" event' : l.map((e) => JSON.stringify(e)).join(', ');
};

/** A probe call or event list as a reader sees it in a message: which scenario, what. */
const describe = (r: ScenarioRecord, what: string) => `scenario ${r.scenario}: ${what}`;

/** The failure of every problem found, each scenario's command line once at the end (to run it by hand). */
function verdict(problems: Violated[], judged: number, records: readonly ScenarioRecord[]): Outcome {
  if (problems.length === 0) return { status: 'passed', runs: judged, reached: judged };
  const text = problems.map((v) => `${v.call}\n    returned: ${v.got}\n    expected: ${v.expected}`);
  const ran = records.filter((r) => problems.some((v) => v.call.startsWith(`scenario ${r.scenario}:`))).map((r) => `    scenario ${r.scenario} ran: ${r.command}`);
  return { status: 'failed', runs: judged, reached: judged, violation: problems[0]!, message: [...text, ...ran].join('\n') };
}

/** The records a property may read: its own scenarios, and every other one when it reads all. */
function readable(p: Pick<NHostProperty, 'scenarios' | 'readsAll'>, ctx: NHostContext): ScenarioRecord[] {
  return Object.entries(ctx.records).flatMap(([name, r]) => (r && (p.readsAll || p.scenarios.includes(name as ScenarioName)) ? [r] : []));
}

const record = (ctx: NHostContext, s: ScenarioName) => ctx.records[s]!;

export const loadConforming = defineProperty('host', {
  id: 'nhost.load.conforming',
  scenarios: ['conforming'],
  owns: ['conforming'],
  check(ctx) {
    const r = record(ctx, 'conforming');
    const path = pathOf(r, 'conforming');
    const opened = linesOf(r, 'conforming', 'dlopen');
    if (opened.some((l) => l.tracker === false)) {
      return {
        status: 'errored',
        runs: 1,
        message: `the allocation tracker is not active in the adapter process (the probe found no pct_present in it): LD_PRELOAD was not honoured, so double frees cannot be seen. Run the adapter directly (not through a setuid or static binary, nor a wrapper that clears LD_PRELOAD)\n    ${r.command}`,
      };
    }
    const problems: Violated[] = [];
    const loads = loadsOf(r, path);
    if (loads.length !== 1 || !loads[0]!.ok) problems.push({ call: describe(r, `load(${path})`), got: loadWord(r, path), expected: 'one {"ev":"load","ok":true} for the conforming probe' });
    const want = idsOf('conforming');
    const listed = namesListed(r, path);
    const missing = want.filter((n) => !listed.includes(n));
    const extra = listed.filter((n) => !want.includes(n));
    if (missing.length || extra.length || listed.length !== want.length)
      problems.push({ call: describe(r, 'the templates listed'), got: JSON.stringify(listed), expected: `each of ${JSON.stringify(want)} listed once${extra.length ? ` (never registered: ${JSON.stringify(extra)})` : ''}` });
    const factoryCalls = linesOf(r, 'conforming', 'factory').length;
    for (const name of want) {
      const creates = eventsOf(r, 'create', path, name);
      if (creates.length !== 1 || !creates[0]!.ok) problems.push({ call: describe(r, `create(${name})`), got: creates.length ? creates.map((e) => JSON.stringify(e)).join(', ') : 'no "create" event', expected: 'one {"ev":"create","ok":true}: one actor per template' });
    }
    const createdOk = eventsOf(r, 'create', path).filter((e) => e.ok).length;
    if (createdOk > factoryCalls) problems.push({ call: describe(r, 'the factory calls the probe received'), got: `${factoryCalls} factory call(s)`, expected: `at least one per "create" reported ok (${createdOk}): the actors must come from the pack's factory` });
    return verdict(problems, 1, [r]);
  },
} satisfies NHostProperty);

export const versionChecked = defineProperty('host', {
  id: 'nhost.version.checked',
  scenarios: ['version'],
  owns: ['version'],
  check(ctx) {
    const r = record(ctx, 'version');
    const path = pathOf(r, 'version');
    const problems: Violated[] = [];
    const loads = loadsOf(r, path);
    if (loads.length === 0 || loads.some((e) => e.ok)) problems.push({ call: describe(r, `load(${path}), whose reflow_pack_abi_version differs from the host's`), got: loadWord(r, path), expected: '{"ev":"load","ok":false,"error":…}: the pack refused' });
    const registered = linesOf(r, 'version', 'register');
    if (registered.length) problems.push({ call: describe(r, 'reflow_pack_register of the probe with the other ABI version'), got: `called ${registered.length} time(s)`, expected: 'never called: the version is checked first' });
    return verdict(problems, 1, [r]);
  },
} satisfies NHostProperty);

export const vtableValid = defineProperty('host', {
  id: 'nhost.vtable.valid',
  scenarios: ['conforming'],
  owns: [],
  readsAll: true,
  check(ctx) {
    const problems: Violated[] = [];
    const records = readable(this, ctx);
    for (const r of records) {
      for (const reg of r.probe.filter((l) => l.ev === 'register')) {
        if (reg.vtable === false || reg.register_template === false)
          problems.push({ call: describe(r, `reflow_pack_register of probe ${reg.probe}`), got: reg.vtable === false ? 'a null vtable' : 'a vtable whose register_template is null', expected: 'a vtable with a non-null register_template' });
        const calls = linesOf(r, reg.probe, 'call').filter((c) => c.pid === reg.pid);
        const moved = calls.filter((c) => c.host_data !== reg.host_data);
        if (moved.length)
          problems.push({ call: describe(r, `register_template calls of probe ${reg.probe} (host_data re-read from the vtable before each)`), got: `host_data ${String(reg.host_data)} at register, then ${moved.map((c) => String(c.host_data)).join(', ')}`, expected: 'the same host_data on every call of one load' });
      }
    }
    return verdict(problems, records.length, records);
  },
} satisfies NHostProperty);

const EXPECTED_ANSWERS: [ScenarioName, string, number, string][] = [
  ['null-id', 'null id', -1, 'NullArg (-1)'],
  ['null-factory', 'null factory', -1, 'NullArg (-1)'],
  ['bad-utf8', 'id not UTF-8', -2, 'BadUtf8 (-2)'],
  ['duplicate', 'first', 0, 'Ok (0): the id is new'],
  ['duplicate', 'repeated id', -3, 'Duplicate (-3)'],
  ['null-drop', 'null drop', 0, 'Ok (0): drop is nullable'],
];

export const registerRejects = defineProperty('host', {
  id: 'nhost.register.rejects',
  scenarios: ['null-id', 'null-factory', 'bad-utf8', 'duplicate', 'null-drop'],
  owns: ['null-id', 'null-factory', 'bad-utf8', 'duplicate', 'null-drop'],
  check(ctx) {
    const problems: Violated[] = [];
    for (const [s, label, want, word] of EXPECTED_ANSWERS) {
      const r = record(ctx, s);
      const b = blocksOf(r).find((x) => x.label === label);
      const call = describe(r, `register_template(${label})`);
      if (!b) problems.push({ call, got: 'never called (the probe\'s register did not run)', expected: word });
      else if (b.status !== want) problems.push({ call, got: b.status === null ? 'no answer' : `status ${b.status}`, expected: word });
    }
    const nullDrop = blocksOf(record(ctx, 'null-drop')).find((x) => x.label === 'null drop');
    if (nullDrop && nullDrop.drops > 0) problems.push({ call: describe(record(ctx, 'null-drop'), 'the registration with a null drop'), got: `drop called ${nullDrop.drops} time(s)`, expected: 'never called' });
    return verdict(problems, this.scenarios.length, readable(this, ctx));
  },
} satisfies NHostProperty);

export const dropRejected = defineProperty('host', {
  id: 'nhost.drop.rejected',
  scenarios: ['null-id', 'null-factory', 'bad-utf8', 'duplicate'],
  owns: [],
  readsAll: true,
  check(ctx) {
    const problems: Violated[] = [];
    const records = readable(this, ctx);
    for (const r of records) {
      for (const b of blocksOf(r).filter((x) => x.status !== null && x.status !== 0)) {
        const call = describe(r, `the rejected registration ${b.label} of probe ${b.probe} (answered ${b.status}; the pack reclaimed its user_data)`);
        if (b.drops > 0) problems.push({ call, got: `drop(user_data) called ${b.drops} time(s): a double free in an SDK-built pack`, expected: 'no drop call for a rejected registration' });
        if (b.frees !== null && b.frees > 0) problems.push({ call, got: `the allocation tracker saw its user_data freed ${b.frees} time(s) by the host: a double free in an SDK-built pack`, expected: 'the host never frees a user_data it rejected' });
      }
    }
    return verdict(problems, records.length, records);
  },
} satisfies NHostProperty);

export const DROP_NEVER_EXERCISED = 'the loader cannot unload: drop never exercised';

export const dropOnce = defineProperty('host', {
  id: 'nhost.drop.once',
  scenarios: ['conforming'],
  owns: [],
  readsAll: true,
  check(ctx) {
    const problems: Violated[] = [];
    const records = readable(this, ctx);
    let unloads = 0;
    for (const r of records) {
      for (const d of r.probe.filter((l) => l.ev === 'drop' && l.block === -1))
        problems.push({ call: describe(r, `drop of probe ${d.probe}`), got: `drop(${String(d.ptr)}), a user_data the pack never registered`, expected: 'drop only with a user_data the pack registered' });
      const blocks = blocksOf(r).filter((b) => b.status === 0);
      for (const b of blocks.filter((x) => x.drops > 1))
        problems.push({ call: describe(r, `the accepted registration ${b.label} of probe ${b.probe}`), got: `drop called ${b.drops} times`, expected: 'at most once' });
      for (const p of r.packs) {
        if (!eventsOf(r, 'unload', p.path).some((e) => e.ok)) continue;
        unloads++;
        for (const b of blocks.filter((x) => x.probe === p.probe && x.hasDrop && x.drops === 0))
          problems.push({ call: describe(r, `the accepted registration ${b.label} of probe ${b.probe}, after {"ev":"unload","ok":true} for ${p.path}`), got: 'drop never called', expected: 'drop called exactly once by the unload' });
      }
    }
    if (problems.length === 0 && unloads === 0) return { status: 'skipped', runs: 0, reached: 0, message: `${DROP_NEVER_EXERCISED} (the adapter reported no "unload" event)` };
    return verdict(problems, records.length, records);
  },
} satisfies NHostProperty);

export const loadRollback = defineProperty('host', {
  id: 'nhost.load.rollback',
  scenarios: ['rollback'],
  owns: ['rollback'],
  check(ctx) {
    const r = record(ctx, 'rollback');
    const problems: Violated[] = [];
    const failPath = pathOf(r, 'rollback-fail');
    const retryPath = pathOf(r, 'rollback-retry');
    const failLoads = loadsOf(r, failPath);
    if (failLoads.length === 0 || failLoads.some((e) => e.ok))
      problems.push({ call: describe(r, `load(${failPath}), whose register accepts two templates and returns Internal (-99)`), got: loadWord(r, failPath), expected: '{"ev":"load","ok":false,…}: a failed load' });
    for (const b of blocksOf(r).filter((x) => x.probe === 'rollback-fail' && x.status === 0 && x.drops !== 1))
      problems.push({ call: describe(r, `the accepted registration ${b.label} of the failed load`), got: `drop called ${b.drops} time(s)`, expected: 'dropped exactly once: the host keeps nothing of a failed load' });
    const retry = blocksOf(r).filter((x) => x.probe === 'rollback-retry');
    const refused = retry.filter((b) => b.status !== 0);
    if (retry.length === 0 || refused.length)
      problems.push({ call: describe(r, `load(${retryPath}), registering the same two names`), got: retry.length ? refused.map((b) => `${b.label}: status ${b.status}`).join(', ') : 'its register never ran', expected: 'both accepted (0): the failed load kept neither name' });
    const retryLoads = loadsOf(r, retryPath);
    const listed = namesListed(r, retryPath);
    const want = idsOf('rollback-retry');
    if (retryLoads.length !== 1 || !retryLoads[0]!.ok || want.some((n) => !listed.includes(n)))
      problems.push({ call: describe(r, `load(${retryPath}) after the failed one`), got: `${loadWord(r, retryPath)}; listed ${JSON.stringify(listed)}`, expected: `a clean load listing ${JSON.stringify(want)}` });
    return verdict(problems, 1, [r]);
  },
} satisfies NHostProperty);

export const factoryNull = defineProperty('host', {
  id: 'nhost.factory.null',
  scenarios: ['factory-null'],
  owns: ['factory-null'],
  check(ctx) {
    const r = record(ctx, 'factory-null');
    const path = pathOf(r, 'factory-null');
    const [name] = idsOf('factory-null');
    const creates = eventsOf(r, 'create', path, name);
    const problems: Violated[] = [];
    if (creates.length === 0 || creates.some((e) => e.ok))
      problems.push({ call: describe(r, `create(${name}), whose factory returns NULL`), got: creates.length ? creates.map((e) => JSON.stringify(e)).join(', ') : `no "create" event (${loadWord(r, path)})`, expected: '{"ev":"create","ok":false,"error":…} and no actor' });
    return verdict(problems, 1, [r]);
  },
} satisfies NHostProperty);

export const packIdentity = defineProperty('host', {
  id: 'nhost.pack.identity',
  scenarios: ['identity'],
  owns: ['identity'],
  check(ctx) {
    const r = record(ctx, 'identity');
    const problems: Violated[] = [];
    for (const [me, other] of [
      ['same-a', 'same-b'],
      ['same-b', 'same-a'],
    ] as const) {
      const path = pathOf(r, me);
      const loads = loadsOf(r, path);
      if (me === 'same-b' && loads.length > 0 && loads.every((e) => !e.ok)) continue; // refused with an error: allowed for the second
      const listed = namesListed(r, path);
      const mine = idsOf(me);
      const ran = linesOf(r, me, 'register').length > 0;
      if (loads.length !== 1 || !loads[0]!.ok || !ran || mine.some((n) => !listed.includes(n)) || idsOf(other).some((n) => listed.includes(n)))
        problems.push({
          call: describe(r, `load(${path}) (file name shared with ${pathOf(r, other)}, different pack)`),
          got: `${loadWord(r, path)}; listed ${JSON.stringify(listed)}; its register ${ran ? 'ran' : 'never ran'}`,
          expected: `its own templates ${JSON.stringify(mine)} listed (or, for the second, {"ev":"load","ok":false}): never taken for the other`,
        });
    }
    return verdict(problems, 1, [r]);
  },
} satisfies NHostProperty);

/** In catalog order. */
export const NHOST_PROPERTIES: readonly Defined<NHostProperty>[] = [loadConforming, versionChecked, vtableValid, registerRejects, dropRejected, dropOnce, loadRollback, factoryNull, packIdentity];
