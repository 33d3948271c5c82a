// What a wasm module declares: exports and imports with their signatures, and
// its memory limits. WebAssembly.Module only gives names and kinds, so
// wasm-binary.ts reads the type, import, function, memory and export sections.
import { REGISTER_IMPORT, REGISTER_IMPORT_SIGNATURE, WASM_EXPORTS, WASM_SIGNATURES, type WasmCallName } from '../../abi/abi.ts';
import { readSections, WasmFormatError, type FuncType } from './wasm-binary.ts';

export { WasmFormatError } from './wasm-binary.ts';

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
  /** The module's own or imported memory (memory 0), in 64 KiB pages. */
  memory: { initialPages: number; maxPages: number | null; imported: boolean } | null;
}

/** The shape of a module's binary; throws WasmFormatError (a LoadError) when its sections are malformed or truncated. */
export function readWasmShape(bytes: Uint8Array): WasmShape {
  const sec = readSections(bytes);
  const signature = (typeIndex: number, what: string): Signature => {
    const t: FuncType | null | undefined = sec.types[typeIndex];
    if (t === undefined) throw new WasmFormatError(null, `${what} refers to type ${typeIndex}, but the type section has ${sec.types.length} types`);
    if (t === null) throw new WasmFormatError(null, `${what} refers to type ${typeIndex}, which is not a function type`);
    return { params: [...t.params], results: [...t.results] };
  };
  const imports: ImportShape[] = [];
  const funcTypes: number[] = [];
  let memory: WasmShape['memory'] = null;
  for (const i of sec.imports) {
    if (i.kind === 'function') {
      funcTypes.push(i.typeIndex!);
      imports.push({ module: i.module, name: i.name, kind: 'function', ...signature(i.typeIndex!, `import "${i.module}.${i.name}"`) });
    } else {
      if (i.kind === 'memory' && !memory) memory = { initialPages: i.limits!.min, maxPages: i.limits!.max, imported: true };
      imports.push({ module: i.module, name: i.name, kind: i.kind });
    }
  }
  funcTypes.push(...sec.functions);
  if (!memory && sec.memories[0]) memory = { initialPages: sec.memories[0].min, maxPages: sec.memories[0].max, imported: false };
  const exports: ExportShape[] = sec.exports.map((e) => {
    if (e.kind !== 'function') return { name: e.name, kind: e.kind };
    const t = funcTypes[e.index];
    if (t === undefined) throw new WasmFormatError(null, `export "${e.name}" is function ${e.index}, but the module has ${funcTypes.length} functions`);
    return { name: e.name, kind: 'function', ...signature(t, `export "${e.name}"`) };
  });
  return { exports, imports, memory };
}

/** readWasmShape, kept asynchronous for callers of the earlier binaryen-based reader. */
export async function inspectWasm(bytes: Uint8Array): Promise<WasmShape> {
  return readWasmShape(bytes);
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
