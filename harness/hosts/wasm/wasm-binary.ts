// A small reader of the sections of a WebAssembly binary that the shape check
// needs (type, import, function, memory, export), after the binary format of
// the core spec (§5). Every other section is skipped by its size. Anything
// malformed or truncated is a WasmFormatError naming the byte offset.
import { LoadError } from '../../run/pack-file.ts';

export class WasmFormatError extends LoadError {
  constructor(
    /** Where in the binary; null for a reference that points nowhere. */
    readonly offset: number | null,
    what: string,
  ) {
    super(offset === null ? `malformed WebAssembly: ${what}` : `malformed WebAssembly at byte ${offset} (0x${offset.toString(16)}): ${what}`);
    this.name = 'WasmFormatError';
  }
}

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const EXTERN_KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export interface FuncType {
  params: string[];
  results: string[];
}

export interface Limits {
  min: number;
  max: number | null;
}

export interface RawImport {
  module: string;
  name: string;
  kind: ExternKind;
  /** function and tag imports: their type index */
  typeIndex?: number;
  /** memory imports */
  limits?: Limits;
}

export interface RawExport {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface WasmSections {
  /** Every type of the type section; null for types that are not function types (GC structs, arrays). */
  types: (FuncType | null)[];
  imports: RawImport[];
  /** The type index of each function the module defines. */
  functions: number[];
  memories: Limits[];
  exports: RawExport[];
}

const VALTYPES: Record<number, string> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
  0x6e: 'anyref',
  0x6d: 'eqref',
  0x6c: 'i31ref',
  0x6b: 'structref',
  0x6a: 'arrayref',
  0x69: 'exnref',
  0x71: 'nullref',
  0x72: 'nullexternref',
  0x73: 'nullfuncref',
  0x74: 'nullexnref',
};
const HEAPTYPES: Record<number, string> = {
  0x70: 'func',
  0x6f: 'extern',
  0x6e: 'any',
  0x6d: 'eq',
  0x6c: 'i31',
  0x6b: 'struct',
  0x6a: 'array',
  0x69: 'exn',
  0x71: 'none',
  0x72: 'noextern',
  0x73: 'nofunc',
  0x74: 'noexn',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over the bytes that never reads past `end`. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
    public end = bytes.length,
  ) {}

  fail(what: string, at = this.pos): never {
    throw new WasmFormatError(at, what);
  }

  byte(what = 'a byte'): number {
    if (this.pos >= this.end) this.fail(`unexpected end while reading ${what}`);
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most `bits` bits (32 or 64; a 64-bit value is exact up to 2^53). */
  uleb(bits: 32 | 64 = 32, what = 'an unsigned LEB128 integer'): number {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.byte(what);
      const low = b & 0x7f;
      if (i === maxBytes - 1) {
        // The last byte may only carry the bits that are left.
        const left = bits - 7 * i;
        if (b & 0x80) this.fail(`${what}: LEB128 longer than ${maxBytes} bytes for a u${bits}`, start);
        if (low >> left) this.fail(`${what}: LEB128 value exceeds ${bits} bits`, start);
      }
      result += low * scale;
      scale *= 128;
      if (!(b & 0x80)) break;
    }
    if (result > Number.MAX_SAFE_INTEGER) this.fail(`${what}: ${result} is beyond what packcheck can count exactly`, start);
    return result;
  }

  /** Signed LEB128 of at most 33 bits (heap and block types). */
  sleb33(what = 'a signed LEB128 integer'): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 5) this.fail(`${what}: LEB128 longer than 5 bytes for an s33`, start);
      const b = this.byte(what);
      result += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) {
        if (b & 0x40) result -= scale;
        break;
      }
    }
    if (result < -(2 ** 32) || result >= 2 ** 32) this.fail(`${what}: LEB128 value exceeds 33 bits`, start);
    return result;
  }

  take(n: number, what: string): Uint8Array {
    if (n > this.end - this.pos) this.fail(`unexpected end: ${what} needs ${n} bytes, ${this.end - this.pos} are left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(what: string): string {
    const len = this.uleb(32, `the length of ${what}`);
    const at = this.pos;
    const raw = this.take(len, what);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail(`${what} is not valid UTF-8`, at);
    }
  }

  /** A vector's length, checked against the bytes left (each element takes at least one byte). */
  count(what: string): number {
    const at = this.pos;
    const n = this.uleb(32, `the length of ${what}`);
    if (n > this.end - this.pos) this.fail(`${what} claims ${n} entries but only ${this.end - this.pos} bytes are left`, at);
    return n;
  }
}

function heapType(r: Reader): string {
  const at = r.pos;
  const ht = r.sleb33('a heap type');
  if (ht >= 0) return String(ht);
  const name = HEAPTYPES[ht & 0x7f];
  if (!name) r.fail(`unknown heap type 0x${(ht & 0x7f).toString(16)}`, at);
  return name;
}

function valType(r: Reader): string {
  const at = r.pos;
  const b = r.byte('a value type');
  const name = VALTYPES[b];
  if (name) return name;
  if (b === 0x64) return `(ref ${heapType(r)})`;
  if (b === 0x63) return `(ref null ${heapType(r)})`;
  return r.fail(`unknown value type 0x${b.toString(16)}`, at);
}

function storageType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x78 || b === 0x77) r.pos++;
  else valType(r);
  const mut = r.byte('a field mutability');
  if (mut > 1) r.fail(`field mutability must be 0 or 1, is ${mut}`, r.pos - 1);
}

function compositeType(r: Reader): FuncType | null {
  const at = r.pos;
  const form = r.byte('a type form');
  if (form === 0x60) {
    const params = Array.from({ length: r.count('the parameters') }, () => valType(r));
    const results = Array.from({ length: r.count('the results') }, () => valType(r));
    return { params, results };
  }
  if (form === 0x5f) {
    for (let n = r.count('the struct fields'); n > 0; n--) storageType(r);
    return null;
  }
  if (form === 0x5e) {
    storageType(r);
    return null;
  }
  return r.fail(`unknown type form 0x${form.toString(16)} (expected 0x60, a function type)`, at);
}

function subType(r: Reader): FuncType | null {
  const b = r.bytes[r.pos];
  if (b === 0x50 || b === 0x4f) {
    r.pos++;
    for (let n = r.count('the supertypes'); n > 0; n--) r.uleb(32, 'a supertype index');
  }
  return compositeType(r);
}

function typeSection(r: Reader, types: (FuncType | null)[]): void {
  for (let n = r.count('the type section'); n > 0; n--) {
    if (r.bytes[r.pos] === 0x4e) {
      r.pos++;
      for (let m = r.count('a recursion group'); m > 0; m--) types.push(subType(r));
    } else types.push(subType(r));
  }
}

function limits(r: Reader, what: string): Limits {
  const at = r.pos;
  const flags = r.byte(`the limits of ${what}`);
  if (flags > 0x07) r.fail(`the limits of ${what} have unknown flags 0x${flags.toString(16)}`, at);
  const bits = flags & 0x04 ? 64 : 32;
  const min = r.uleb(bits, `the minimum of ${what}`);
  const max = flags & 0x01 ? r.uleb(bits, `the maximum of ${what}`) : null;
  return { min, max };
}

function tableType(r: Reader): void {
  valType(r);
  limits(r, 'a table');
}

function importSection(r: Reader, out: RawImport[]): void {
  for (let n = r.count('the import section'); n > 0; n--) {
    const module = r.name('an import module name');
    const name = r.name('an import name');
    const at = r.pos;
    const kind = EXTERN_KINDS[r.byte('an import kind')];
    if (!kind) r.fail(`unknown import kind 0x${r.bytes[at]!.toString(16)} for "${module}.${name}"`, at);
    const imp: RawImport = { module, name, kind };
    if (kind === 'function') imp.typeIndex = r.uleb(32, 'a function type index');
    else if (kind === 'table') tableType(r);
    else if (kind === 'memory') imp.limits = limits(r, `memory import "${module}.${name}"`);
    else if (kind === 'global') {
      valType(r);
      const mut = r.byte('a global mutability');
      if (mut > 1) r.fail(`global mutability must be 0 or 1, is ${mut}`, r.pos - 1);
    } else {
      const attr = r.byte('a tag attribute');
      if (attr !== 0) r.fail(`tag attribute must be 0, is ${attr}`, r.pos - 1);
      imp.typeIndex = r.uleb(32, 'a tag type index');
    }
    out.push(imp);
  }
}

function exportSection(r: Reader, out: RawExport[]): void {
  for (let n = r.count('the export section'); n > 0; n--) {
    const name = r.name('an export name');
    const at = r.pos;
    const kind = EXTERN_KINDS[r.byte('an export kind')];
    if (!kind) r.fail(`unknown export kind 0x${r.bytes[at]!.toString(16)} for "${name}"`, at);
    out.push({ name, kind, index: r.uleb(32, 'an export index') });
  }
}

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count', 'tag'];

/** Reads the type, import, function, memory and export sections; throws WasmFormatError on anything malformed. */
export function readSections(bytes: Uint8Array): WasmSections {
  const r = new Reader(bytes);
  const magic = r.take(4, 'the magic number');
  if (magic[0] !== 0x00 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) r.fail('not a WebAssembly module (no \\0asm magic number)', 0);
  const version = r.take(4, 'the version');
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0)
    r.fail(`version ${[...version].map((b) => b.toString(16).padStart(2, '0')).join(' ')} is not 01 00 00 00 (a core module; components are not packs)`, 4);
  const out: WasmSections = { types: [], imports: [], functions: [], memories: [], exports: [] };
  const seen = new Set<number>();
  while (r.pos < r.end) {
    const at = r.pos;
    const id = r.byte('a section id');
    if (id >= SECTION_NAMES.length) r.fail(`unknown section id ${id}`, at);
    const size = r.uleb(32, `the size of the ${SECTION_NAMES[id]} section`);
    if (size > r.end - r.pos) r.fail(`the ${SECTION_NAMES[id]} section claims ${size} bytes but only ${r.end - r.pos} are left (truncated module)`, at);
    if (id !== 0) {
      if (seen.has(id)) r.fail(`a second ${SECTION_NAMES[id]} section`, at);
      seen.add(id);
    }
    const body = new Reader(bytes, r.pos, r.pos + size);
    r.pos += size;
    if (id === 1) typeSection(body, out.types);
    else if (id === 2) importSection(body, out.imports);
    else if (id === 3) for (let n = body.count('the function section'); n > 0; n--) out.functions.push(body.uleb(32, 'a function type index'));
    else if (id === 5) for (let n = body.count('the memory section'); n > 0; n--) out.memories.push(limits(body, 'a memory'));
    else if (id === 7) exportSection(body, out.exports);
    else continue;
    if (body.pos !== body.end) body.fail(`the ${SECTION_NAMES[id]} section has ${body.end - body.pos} bytes after its last entry`);
  }
  return out;
}
