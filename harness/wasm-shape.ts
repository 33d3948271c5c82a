// What a wasm module declares: exports and imports with their signatures, and
// its memory limits. WebAssembly.Module only gives kinds, so binaryen reads
// the sections for us.
import { REGISTER_IMPORT, REGISTER_IMPORT_SIGNATURE, WASM_EXPORTS, WASM_SIGNATURES, type WasmCallName } from './abi.ts';

export interface Signature {
  params: string[];
  results: string[];
}

export interface ExportShape extends Partial<Signature> {
  name: string;
  kind: 'function' | 'memory' | 'table' | 'global' | 'tag';
}

export interface ImportShape extends Partial<Signature> {
  module: string;
  name: string;
  kind: 'function' | 'memory' | 'table' | 'global' | 'tag';
}

export interface WasmShape {
  exports: ExportShape[];
  imports: ImportShape[];
  /** The module's own or imported memory, in 64 KiB pages. */
  memory: { initialPages: number; maxPages: number | null; imported: boolean } | null;
}

type Binaryen = typeof import('binaryen').default;
let binaryenPromise: Promise<Binaryen> | null = null;
const PRELOADED = Symbol.for('packcheck.binaryen');
function loadBinaryen(): Promise<Binaryen> {
  // The worker entry imports binaryen natively, before tsx's loader is on.
  const pre = (globalThis as Record<symbol, unknown>)[PRELOADED] as Binaryen | undefined;
  binaryenPromise ??= pre ? Promise.resolve(pre) : import('binaryen').then((m) => m.default);
  return binaryenPromise;
}

export async function inspectWasm(bytes: Uint8Array): Promise<WasmShape> {
  const b = await loadBinaryen();
  const names = new Map<number, string>([
    [b.i32, 'i32'],
    [b.i64, 'i64'],
    [b.f32, 'f32'],
    [b.f64, 'f64'],
    [b.v128, 'v128'],
    [b.funcref, 'funcref'],
    [b.externref, 'externref'],
  ]);
  const typeList = (t: number) => b.expandType(t).map((x: number) => names.get(x) ?? `type#${x}`);
  const mod = b.readBinary(bytes);
  try {
    const kinds: Record<number, ExportShape['kind']> = {
      [b.ExternalFunction]: 'function',
      [b.ExternalTable]: 'table',
      [b.ExternalMemory]: 'memory',
      [b.ExternalGlobal]: 'global',
      [b.ExternalTag]: 'tag',
    };
    const exports: ExportShape[] = [];
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = b.getExportInfo(mod.getExportByIndex(i));
      const kind = kinds[e.kind] ?? 'function';
      if (kind === 'function') {
        const f = b.getFunctionInfo(mod.getFunction(e.value));
        exports.push({ name: e.name, kind, params: typeList(f.params), results: typeList(f.results) });
      } else exports.push({ name: e.name, kind });
    }
    const imports: ImportShape[] = [];
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = b.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module) imports.push({ module: f.module, name: f.base ?? "", kind: 'function', params: typeList(f.params), results: typeList(f.results) });
    }
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = b.getGlobalInfo(mod.getGlobalByIndex(i));
      if (g.module) imports.push({ module: g.module, name: g.base ?? "", kind: 'global' });
    }
    for (let i = 0; i < mod.getNumTables(); i++) {
      const t = b.getTableInfo(mod.getTableByIndex(i));
      if (t.module) imports.push({ module: t.module, name: t.base ?? "", kind: 'table' });
    }
    let memory: WasmShape['memory'] = null;
    if (mod.hasMemory()) {
      const m = mod.getMemoryInfo();
      if (m.module) imports.push({ module: m.module, name: m.base ?? "", kind: 'memory' });
      memory = { initialPages: m.initial, maxPages: m.max ?? null, imported: Boolean(m.module) };
    }
    return { exports, imports, memory };
  } finally {
    mod.dispose();
  }
}

const sig = (s: Partial<Signature>) => `(${(s.params ?? []).join(', ')}) -> (${(s.results ?? []).join(', ')})`;

/** Every way the shape departs from ABI.md; empty when it conforms. */
export function shapeProblems(shape: WasmShape): string[] {
  const problems: string[] = [];
  const byName = new Map(shape.exports.map((e) => [e.name, e]));
  const mem = byName.get(WASM_EXPORTS.memory);
  if (!mem) problems.push(`export "memory" is missing`);
  else if (mem.kind !== 'memory') problems.push(`export "memory" is a ${mem.kind}, expected a memory`);
  for (const [key, want] of Object.entries(WASM_SIGNATURES) as [WasmCallName, Signature][]) {
    const name = WASM_EXPORTS[key];
    const e = byName.get(name);
    if (!e) problems.push(`export "${name}" is missing (expected a function ${sig(want)})`);
    else if (e.kind !== 'function') problems.push(`export "${name}" is a ${e.kind}, expected a function ${sig(want)}`);
    else if (sig(e) !== sig(want)) problems.push(`export "${name}" has signature ${sig(e)}, expected ${sig(want)}`);
  }
  const reg = shape.imports.find((i) => i.module === REGISTER_IMPORT.module && i.name === REGISTER_IMPORT.name);
  if (!reg) problems.push(`import "${REGISTER_IMPORT.module}.${REGISTER_IMPORT.name}" is missing (expected a function ${sig(REGISTER_IMPORT_SIGNATURE)})`);
  else if (reg.kind !== 'function' || sig(reg) !== sig(REGISTER_IMPORT_SIGNATURE))
    problems.push(`import "${REGISTER_IMPORT.module}.${REGISTER_IMPORT.name}" is ${reg.kind} ${sig(reg)}, expected a function ${sig(REGISTER_IMPORT_SIGNATURE)}`);
  return problems;
}

/** The exports of the ABI the module has as functions (properties check their needs against it). */
export function presentCalls(shape: WasmShape): Set<WasmCallName> {
  const fns = new Set(shape.exports.filter((e) => e.kind === 'function').map((e) => e.name));
  return new Set((Object.keys(WASM_SIGNATURES) as WasmCallName[]).filter((k) => fns.has(WASM_EXPORTS[k])));
}
