// The manifest of a `.rflpack` bundle (../shared/ABI.md, "`.rflpack`
// bundles"): its schema, the safety of the paths a bundle names, and the
// binary kind each target triple calls for.
import { isLosslessNumber } from 'lossless-json';
import { describeJson, duplicateMembersOf, jsonTypeOf, parseLossless } from '../../abi/message-schema.ts';
import { kindOf, type PackKind } from '../pack-file.ts';
import { DEFAULT_ENTRYPOINT } from '../../hosts/native/vtable-host.ts';

export const MANIFEST_NAME = 'manifest.json';
export const WASM_TRIPLE = 'wasm32-unknown-unknown';
const U32_MAX = 4294967295;

export interface BundleTarget {
  triple: string;
  /** The path inside the archive, as the manifest gives it. */
  file: string;
}

export interface BundleManifest {
  manifestVersion: 1;
  name: string;
  version: string;
  abiVersion: number;
  /** In the manifest's order. */
  targets: BundleTarget[];
  authors: string[];
  description: string | null;
  license: string | null;
  entrypoint: string;
  /** `[]` when the manifest lists none. */
  templates: string[];
}

export type ManifestCheck = { ok: true; manifest: BundleManifest } | { ok: false; problems: string[] };

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const isObject = (v: unknown): v is Record<string, unknown> => jsonTypeOf(v) === 'object';
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Decodes, parses and validates manifest.json; every problem found is listed. */
export function parseManifest(bytes: Uint8Array): ManifestCheck {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return { ok: false, problems: [`${MANIFEST_NAME} is not UTF-8 (${bytes.length} bytes)`] };
  }
  if (text.startsWith('\uFEFF')) return { ok: false, problems: [`${MANIFEST_NAME} starts with a byte order mark, which JSON does not allow`] };
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch (e) {
    return { ok: false, problems: [`${MANIFEST_NAME} is not JSON: ${(e as Error).message}`] };
  }
  return validateManifest(value);
}

/** The exact text of a JSON integer that fits a u32, or why not. */
function u32(v: unknown): number | string {
  if (!isLosslessNumber(v)) return `${describeJson(v)}, expected a u32 (an integer 0 to ${U32_MAX})`;
  const t = v.value;
  if (!/^(0|[1-9][0-9]*)$/.test(t)) return `number ${t}, expected a u32 written as an integer (0 to ${U32_MAX}, no fraction, exponent or sign)`;
  const n = Number(t);
  if (t.length > 10 || n > U32_MAX) return `number ${t}, expected a u32 (at most ${U32_MAX})`;
  return n;
}

export function validateManifest(value: unknown): ManifestCheck {
  if (!isObject(value)) return { ok: false, problems: [`${MANIFEST_NAME} holds ${describeJson(value)}, expected an object`] };
  const problems: string[] = [];
  const dups = duplicateMembersOf(value);
  if (dups?.size) problems.push(`member${dups.size > 1 ? 's' : ''} ${[...dups].map((d) => JSON.stringify(d)).join(', ')} occur${dups.size > 1 ? '' : 's'} more than once; which one a loader reads is not defined`);

  const mv = value.manifest_version;
  const mvn = u32(mv);
  if (mv === undefined) problems.push('manifest_version is missing, expected 1');
  else if (mvn !== 1) problems.push(`manifest_version is ${typeof mvn === 'string' ? mvn : `number ${mvn}`}, expected 1`);

  const str = (k: string) => {
    const v = value[k];
    if (typeof v !== 'string') problems.push(`${k} is ${describeJson(v)}, expected a string`);
    return typeof v === 'string' ? v : '';
  };
  const name = str('name');
  const version = str('version');

  let abiVersion = 0;
  const av = value.reflow_pack_abi_version;
  if (av === undefined) problems.push(`reflow_pack_abi_version is missing, expected a u32`);
  else {
    const n = u32(av);
    if (typeof n === 'string') problems.push(`reflow_pack_abi_version is ${n}`);
    else abiVersion = n;
  }

  const targets: BundleTarget[] = [];
  const tv = value.targets;
  if (!isObject(tv)) problems.push(`targets is ${describeJson(tv)}, expected an object mapping each target triple to {"file": "<path inside the zip>"}`);
  else {
    const keys = Object.keys(tv);
    if (keys.length === 0) problems.push('targets is an empty object, expected at least one target triple');
    const tdups = duplicateMembersOf(tv);
    if (tdups?.size) problems.push(`targets lists ${[...tdups].map((d) => JSON.stringify(d)).join(', ')} more than once`);
    for (const triple of keys) {
      const t = tv[triple];
      const where = `targets[${JSON.stringify(triple)}]`;
      if (triple === '') problems.push(`targets has an empty triple`);
      if (!isObject(t)) problems.push(`${where} is ${describeJson(t)}, expected {"file": "<path inside the zip>"}`);
      else if (typeof t.file !== 'string') problems.push(`${where}.file is ${describeJson(t.file)}, expected a string`);
      else targets.push({ triple, file: t.file });
    }
  }

  const stringList = (k: string): string[] => {
    if (!has(value, k)) return [];
    const v = value[k];
    if (!Array.isArray(v)) {
      problems.push(`${k} is ${describeJson(v)}, expected an array of strings`);
      return [];
    }
    const bad = v.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) {
      problems.push(`${k}[${bad}] is ${describeJson(v[bad])}, expected a string`);
      return [];
    }
    return v as string[];
  };
  const authors = stringList('authors');
  const templates = stringList('templates');
  const nullableString = (k: string): string | null => {
    if (!has(value, k) || value[k] === null) return null;
    const v = value[k];
    if (typeof v !== 'string') problems.push(`${k} is ${describeJson(v)}, expected a string or null`);
    return typeof v === 'string' ? v : null;
  };
  const description = nullableString('description');
  const license = nullableString('license');
  let entrypoint = DEFAULT_ENTRYPOINT;
  if (has(value, 'entrypoint')) {
    const v = value.entrypoint;
    if (typeof v !== 'string') problems.push(`entrypoint is ${describeJson(v)}, expected a string (default ${DEFAULT_ENTRYPOINT})`);
    else entrypoint = v;
  }

  if (problems.length) return { ok: false, problems };
  return { ok: true, manifest: { manifestVersion: 1, name, version, abiVersion, targets, authors, description, license, entrypoint, templates } };
}

/** Why a path named by a bundle is unsafe to join to a directory, or null. */
export function pathProblem(p: string): string | null {
  if (p.includes('\0')) return 'contains a NUL';
  if (p.includes('\\')) return 'contains a backslash';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  if (p.split('/').includes('..')) return 'has a ".." segment';
  return null;
}

/** The binary kind a target triple calls for; null for a triple outside the four families of ABI.md. */
export function expectedKind(triple: string): Exclude<PackKind, 'zip'> | null {
  if (triple === WASM_TRIPLE) return 'wasm';
  if (/-linux(-|$)/.test(triple)) return 'elf';
  if (/-apple-/.test(triple)) return 'mach-o';
  if (/-windows(-|$)/.test(triple)) return 'pe';
  return null;
}

const KIND_NAME: Record<PackKind, string> = { wasm: 'a WebAssembly module', elf: 'an ELF shared object', 'mach-o': 'a Mach-O binary', pe: 'a PE (Windows) binary', zip: 'a zip archive' };

/** Whether a target's bytes are the kind of binary its triple calls for: null when they are (or the triple names no kind), else why not. */
export function kindProblem(triple: string, bytes: Uint8Array): string | null {
  const want = expectedKind(triple);
  if (!want) return null;
  const got = kindOf(bytes);
  if (got === want) return null;
  const head = Buffer.from(bytes.subarray(0, 4)).toString('hex');
  return `is ${got ? KIND_NAME[got] : `not a binary packcheck recognises (first bytes ${head || 'none: the file is empty'})`}, expected ${KIND_NAME[want]} for ${triple}`;
}
