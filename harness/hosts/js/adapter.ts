// The interface a runtime maintainer implements around their wasm-pack
// loader: a module whose default export is an async factory of HostUnderTest.
// Keep this exact shape: adapters written elsewhere must keep working.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export interface HostTemplate {
  name: string;
  inports: string[];
  outports: string[];
}

export type RunResult = { ok: true; outputs: Record<string, unknown> } | { ok: false; error: string };

export interface HostUnderTest {
  load(module: WebAssembly.Module): Promise<{ templates: HostTemplate[] }>;
  /** An opaque actor handle. */
  create(templateName: string): Promise<unknown>;
  /** `input`: port → Message, as plain JSON values (Integers within ±(2^53−1)). */
  run(actor: unknown, input: Record<string, unknown>): Promise<RunResult>;
  destroy?(actor: unknown): Promise<void>;
  unload?(): Promise<void>;
}

export type HostAdapterFactory = () => Promise<HostUnderTest>;

/** Imports a module by path (the worker's: Node's own loader for JavaScript, tsx for TypeScript). */
export type ModuleImporter = (path: string) => Promise<unknown>;

const defaultImporter: ModuleImporter = (path) => import(pathToFileURL(resolve(path)).href);

/** Why an adapter module cannot be used, in one line naming it. */
export class AdapterImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterImportError';
  }
}

/** The first line of an import error, as `Name: message`. */
export function importErrorLine(e: unknown): string {
  const err = e as { name?: unknown; code?: unknown; message?: unknown };
  const msg = String(err?.message ?? e).split('\n')[0]!.trim();
  const name = typeof err?.name === 'string' ? err.name : 'Error';
  return `${name}${typeof err?.code === 'string' ? ` [${err.code}]` : ''}: ${msg}`;
}

/** Imports an adapter module and returns its factory; every failure is an AdapterImportError of one line. */
export async function loadAdapter(path: string, importer: ModuleImporter = defaultImporter): Promise<HostAdapterFactory> {
  let mod: { default?: unknown };
  try {
    mod = (await importer(path)) as { default?: unknown };
  } catch (e) {
    throw new AdapterImportError(`${path}: the adapter module could not be imported: ${importErrorLine(e)}`);
  }
  if (typeof mod.default !== 'function') throw new AdapterImportError(`${path}: the adapter module's default export must be an async function returning a HostUnderTest`);
  return mod.default as HostAdapterFactory;
}
