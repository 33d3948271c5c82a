// `packcheck diff OLD NEW`: two builds of one pack, both wasm or both native,
// compared statically and on the same generated inputs (same seed). The
// builds run on the execution kernel (worker threads for wasm, child
// processes for native), so a build that hangs or crashes is a difference,
// never a hang of packcheck.
import fc from 'fast-check';
import { LoadError, type PackFile } from '../pack-file.ts';
import { shellWord } from '../replay.ts';
import { DEFAULTS } from '../replay.ts';
import { showBytes } from '../../abi/readable.ts';
import { readWasmShape } from '../../hosts/wasm/wasm-shape.ts';
import { DEFAULT_ENTRYPOINT } from '../../hosts/native/vtable-host.ts';
import type { Template } from '../../abi/registration.ts';
import { badShapePayload, invalidJsonPayload, invalidUtf8Payload, validPayload, type PayloadCase } from '../../../properties/arbitraries/payload.ts';
import { utf8EdgeString } from '../../../properties/arbitraries/utf8.ts';
import { describeSchedule, hostTagArb, scheduleArb, type Schedule } from '../../hosts/native/mock-hosts.ts';
import { registrationDifference, sequenceDifference } from './compare.ts';
import { exportedSymbols } from './elf-symbols.ts';
import { explore } from './explore.ts';
import type { Difference, DiffOptions } from './model.ts';
import { NativeBuild } from './native-build.ts';
import { isTrap, type RegistrationSeen, type SequenceSeen, type TickSeen } from './observation.ts';
import { abiVersionDifference, shapeDifferences, symbolDifferences, templateDifferences } from './static-diff.ts';
import { WasmBuild } from './wasm-build.ts';

export interface PackInfo {
  path: string;
  sha256: string;
  abi: 'wasm' | 'vtable';
  abiVersion: number | null;
  templates: Template[];
  imports: string[];
}

export interface DiffResult {
  old: PackInfo;
  new: PackInfo;
  differences: Difference[];
  /** Generated inputs run through both builds (shrinking included). */
  inputs: number;
  /** What could not be compared, and why. */
  notes: string[];
}

/** The command line that shows a difference again (`fcPath`: one generated input). */
export function diffReplay(oldPath: string, newPath: string, o: DiffOptions, fcPath?: string): string {
  const words = ['packcheck', 'diff', shellWord(oldPath), shellWord(newPath)];
  if (fcPath !== undefined) words.push('--seed', String(o.seed), '--path', shellWord(fcPath));
  if (fcPath !== undefined && o.runs !== DEFAULTS.runs) words.push('--runs', String(o.runs));
  if (o.ignoreErrorText) words.push('--ignore-error-text');
  if (o.timeoutMs !== DEFAULTS.timeoutMs) words.push('--timeout-ms', String(o.timeoutMs));
  if (o.entrypoint && o.entrypoint !== DEFAULT_ENTRYPOINT) words.push('--entrypoint', shellWord(o.entrypoint));
  return words.join(' ');
}

/** Both files must be packs of the same ABI: a LoadError (exit 2) otherwise. */
export function assertComparable(a: PackFile, b: PackFile): void {
  if (a.kind === b.kind && (a.kind === 'wasm' || a.kind === 'elf')) return;
  const what = (f: PackFile) => (f.kind === 'wasm' ? 'a wasm pack' : f.kind === 'elf' ? 'a native (ELF) pack' : `a ${f.kind} file`);
  throw new LoadError(`${a.path} is ${what(a)} and ${b.path} is ${what(b)}: diff compares two builds of one pack, both .wasm or both native .so`);
}

export async function diffPacks(a: PackFile, b: PackFile, o: DiffOptions): Promise<DiffResult> {
  assertComparable(a, b);
  return a.kind === 'wasm' ? diffWasm(a, b, o) : diffNative(a, b, o);
}

// ---------------------------------------------------------------------------
// wasm

interface TickInput {
  template: string;
  ticks: PayloadCase[];
}

/** One tick's payload: every kind of the battery's payloads, valid ones also with UTF-8 edge strings. */
function payloadArb(ports: string[]): fc.Arbitrary<PayloadCase> {
  return fc.oneof({ weight: 3, arbitrary: validPayload(ports) }, validPayload(ports, { stringArb: utf8EdgeString() }), invalidUtf8Payload(ports), invalidJsonPayload(ports), badShapePayload(ports));
}

/** Sequences of 1 to 4 ticks on one instance of a template both builds register, on the union of their inports. */
function sequenceArb(templates: { name: string; inports: string[] }[]): fc.Arbitrary<TickInput> {
  return fc.constantFrom(...templates).chain((t) => fc.array(payloadArb(t.inports), { minLength: 1, maxLength: 4 }).map((ticks) => ({ template: t.name, ticks })));
}

const showTick = (t: TickSeen): string => (isTrap(t) ? `did not return: ${t.detail}` : `status ${t.status}, ${t.result ? `result ${showBytes(t.result)}` : 'no result'}`);
const showSequence = (s: SequenceSeen): string[] => (s.created ? s.ticks.map(showTick) : s.ticks.length ? [`create_actor ${showTick(s.ticks[0]!)}`] : ['create_actor answered 0 (no instance)']);

async function compileOrRefuse(f: PackFile): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(f.bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new LoadError(`${f.path} starts like WebAssembly but does not compile (${(e as Error).message}); rebuild the pack`);
  }
}

async function diffWasm(a: PackFile, b: PackFile, o: DiffOptions): Promise<DiffResult> {
  const [ma, mb] = await Promise.all([compileOrRefuse(a), compileOrRefuse(b)]);
  const [sa, sb] = [readWasmShape(a.bytes), readWasmShape(b.bytes)];
  const profile = 'sdk' as const;
  const oldBuild = new WasmBuild(ma, { timeoutMs: o.timeoutMs, profile });
  const newBuild = new WasmBuild(mb, { timeoutMs: o.timeoutMs, profile });
  try {
    const [va, vb] = await Promise.all([oldBuild.survey(), newBuild.survey()]);
    const notes = [...va.problems.map((p) => `old: ${p}`), ...vb.problems.map((p) => `new: ${p}`)];
    const replayStatic = diffReplay(a.path, b.path, o);
    const differences: Difference[] = o.path !== undefined ? [] : [...abiVersionDifference(va.abiVersion, vb.abiVersion), ...shapeDifferences(sa, sb), ...templateDifferences(va.templates, vb.templates)].map((d) => ({ ...d, replay: replayStatic }));
    // Inputs for the templates both register, on the union of their inports.
    const inB = new Map(vb.templates.map((t) => [t.name, t]));
    const common = va.templates.filter((t) => inB.has(t.name)).map((t) => ({ name: t.name, inports: [...new Set([...t.inports, ...inB.get(t.name)!.inports])].sort() }));
    let inputs = 0;
    if (common.length === 0) notes.push('no template is registered by both builds: no inputs were run');
    else {
      const r = await explore<TickInput, [SequenceSeen, SequenceSeen]>(
        sequenceArb(common),
        { seed: o.seed, runs: o.runs, path: o.path },
        (input) => Promise.all([oldBuild.sequence(input.template, input.ticks.map((t) => t.bytes)), newBuild.sequence(input.template, input.ticks.map((t) => t.bytes))]),
        (input, [x, y]) => {
          const d = sequenceDifference(x, y, o.ignoreErrorText);
          if (!d) return null;
          const cls = d.tick < 0 ? 'create' : (input.ticks[d.tick]?.kind.split(':')[0] ?? 'tick');
          return { kind: d.kind, signature: `${d.kind}|${input.template}|${cls}` };
        },
      );
      inputs = r.inputs;
      for (const f of r.findings) {
        const tick = sequenceDifference(f.seen[0], f.seen[1], o.ignoreErrorText)?.tick ?? 0;
        // Ticks after the first that differs cannot change the difference (fast-check's array shrinking always keeps the last item): not shown.
        const shown = Math.max(tick, 0) + 1;
        differences.push({
          kind: f.kind,
          template: f.input.template,
          input: { template: f.input.template, ticks: f.input.ticks.slice(0, shown).map((t) => ({ kind: t.kind, payload: showBytes(t.bytes) })) },
          tick,
          old: showSequence(f.seen[0]).slice(0, shown),
          new: showSequence(f.seen[1]).slice(0, shown),
          replay: diffReplay(a.path, b.path, o, f.path),
        });
      }
    }
    const info = (f: PackFile, s: typeof va, shape: typeof sa): PackInfo => ({ path: f.path, sha256: f.sha256, abi: 'wasm', abiVersion: s.abiVersion, templates: s.templates, imports: shape.imports.map((i) => `${i.module}.${i.name}`) });
    return { old: info(a, va, sa), new: info(b, vb, sb), differences, inputs, notes };
  } finally {
    await Promise.all([oldBuild.stop(), newBuild.stop()]);
  }
}

// ---------------------------------------------------------------------------
// native

type ScheduleInput = [Schedule, bigint];

const showRegistration = (s: RegistrationSeen): unknown =>
  'cut' in s ? `${s.stage === 'drop' ? 'the unload' : 'the registration'} did not return: ${s.cut}` : { status: s.status, calls: s.calls.map((c) => `${c.id === null ? 'NULL' : JSON.stringify(c.id)} answered ${c.answer}: ${c.ownership}`) };

/** The signature of a native difference: the kind, and for ownership what changed for the first call that differs. */
function nativeSignature(kind: string, x: RegistrationSeen, y: RegistrationSeen): string {
  if (kind !== 'ownership' || 'cut' in x || 'cut' in y) return kind;
  const i = x.calls.findIndex((c, k) => c.ownership !== y.calls[k]?.ownership);
  return `${kind}|${x.calls[i]?.ownership}|${y.calls[i]?.ownership}`;
}

async function diffNative(a: PackFile, b: PackFile, o: DiffOptions): Promise<DiffResult> {
  if (process.platform !== 'linux') throw new LoadError('native packs are compared on Linux only');
  const entrypoint = o.entrypoint ?? DEFAULT_ENTRYPOINT;
  const [ya, yb] = [exportedSymbols(a.bytes, a.path), exportedSymbols(b.bytes, b.path)];
  const oldBuild = new NativeBuild(a.path, { timeoutMs: o.timeoutMs, entrypoint });
  const newBuild = new NativeBuild(b.path, { timeoutMs: o.timeoutMs, entrypoint });
  try {
    const [la, lb] = await Promise.all([oldBuild.load(), newBuild.load()]);
    const notes: string[] = [];
    if ('problem' in la) notes.push(`old: does not load: ${la.problem}`);
    if ('problem' in lb) notes.push(`new: does not load: ${lb.problem}`);
    if (oldBuild.trackerMissing) notes.push(`ownership not compared: no allocation tracker (${oldBuild.trackerMissing})`);
    // What an accept-all host sees: the templates.
    const tag = 16n;
    const [ra, rb] = await Promise.all([oldBuild.register([], tag), newBuild.register([], tag)]);
    const templatesOf = (r: RegistrationSeen): Template[] => ('cut' in r ? [] : r.calls.map((c, factoryId) => ({ name: c.id ?? '<NULL>', factoryId, inports: [], outports: [] })));
    const abiOf = (l: typeof la) => ('problem' in l ? null : l.abiVersion);
    const replayStatic = diffReplay(a.path, b.path, o);
    const differences: Difference[] = o.path !== undefined ? [] : [...abiVersionDifference(abiOf(la), abiOf(lb)), ...symbolDifferences(ya, yb), ...templateDifferences(templatesOf(ra), templatesOf(rb))].map((d) => ({ ...d, replay: replayStatic }));
    let inputs = 0;
    if ('problem' in la || 'problem' in lb) notes.push('registrations were not compared: a build does not load');
    else {
      const toWire = (s: Schedule): [number, number][] => [...s].sort((x, y) => x[0] - y[0]);
      const r = await explore<ScheduleInput, [RegistrationSeen, RegistrationSeen]>(
        fc.tuple(scheduleArb(), hostTagArb),
        { seed: o.seed, runs: o.runs, path: o.path, examples: [[new Map(), 16n]] },
        ([s, hd]) => Promise.all([oldBuild.register(toWire(s), hd), newBuild.register(toWire(s), hd)]),
        (_input, [x, y]) => {
          const kind = registrationDifference(x, y);
          return kind ? { kind, signature: nativeSignature(kind, x, y) } : null;
        },
      );
      inputs = r.inputs;
      for (const f of r.findings)
        differences.push({ kind: f.kind, input: { schedule: describeSchedule(f.input[0]), hostData: `0x${f.input[1].toString(16)}` }, old: showRegistration(f.seen[0]), new: showRegistration(f.seen[1]), replay: diffReplay(a.path, b.path, o, f.path) });
    }
    const info = (f: PackFile, l: typeof la, r: RegistrationSeen): PackInfo => ({ path: f.path, sha256: f.sha256, abi: 'vtable', abiVersion: abiOf(l), templates: templatesOf(r), imports: [] });
    return { old: info(a, la, ra), new: info(b, lb, rb), differences, inputs, notes };
  } finally {
    await Promise.all([oldBuild.stop(), newBuild.stop()]);
  }
}
