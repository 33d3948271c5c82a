// Decoding what a pack passed to `env.__reflow_pack_register_template`.
import type { Registration } from '../hosts/wasm/ledger.ts';
import { showBytes } from './readable.ts';

export type Profile = 'sdk' | 'legacy';

export interface Template {
  name: string;
  factoryId: number;
  inports: string[];
  outports: string[];
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The template a registration describes, or why its metadata is not acceptable. */
export function decodeRegistration(reg: Registration, profile: Profile): { template: Template } | { problem: string } {
  const where = `registration #${reg.index} (ptr=${reg.ptr}, len=${reg.len}, factory_id=${reg.factoryId})`;
  if (reg.bytes === null) return { problem: `${where}: the metadata range lies outside memory` };
  let text: string;
  try {
    text = STRICT_UTF8.decode(reg.bytes);
  } catch {
    return { problem: `${where}: the metadata ${showBytes(reg.bytes)} is not valid UTF-8` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const m = value as Record<string, unknown>;
    if (typeof m.name !== 'string' || m.name === '') return { problem: `${where}: metadata ${showBytes(reg.bytes)} has no non-empty string "name"` };
    if (!isStringArray(m.inports)) return { problem: `${where}: metadata ${showBytes(reg.bytes)} has no string array "inports"` };
    if (!isStringArray(m.outports)) return { problem: `${where}: metadata ${showBytes(reg.bytes)} has no string array "outports"` };
    return { template: { name: m.name, factoryId: reg.factoryId, inports: m.inports, outports: m.outports } };
  }
  // The older ABI revision passed the bare template name.
  if (profile === 'legacy' && text !== '') return { template: { name: text, factoryId: reg.factoryId, inports: [], outports: [] } };
  return {
    problem: `${where}: metadata ${showBytes(reg.bytes)} is not a JSON object {"name", "inports", "outports"}${profile === 'sdk' ? ' (a bare template name is accepted only with --profile legacy)' : ''}`,
  };
}
