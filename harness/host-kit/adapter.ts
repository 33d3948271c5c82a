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

/** Imports an adapter module and returns its factory. */
export async function loadAdapter(path: string): Promise<HostAdapterFactory> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new Error(`${path}: the adapter module's default export must be an async function returning a HostUnderTest`);
  return mod.default as HostAdapterFactory;
}
