// One fuzz input: a tick sequence on one instance of one template
// (`{template, ticks: [payload…]}`). A payload is its JSON text when the
// bytes are UTF-8, else `{"hex": "…"}`: readable in an artifact, exact for
// invalid UTF-8.
import { createHash } from 'node:crypto';

export type Payload = string | { hex: string };

export interface FuzzInput {
  template: string;
  ticks: Payload[];
}

const STRICT = new TextDecoder('utf-8', { fatal: true });
const ENC = new TextEncoder();

export function payloadBytes(p: Payload): Uint8Array {
  if (typeof p === 'string') return ENC.encode(p);
  // A copy of Buffer's decoding: a plain Uint8Array of its own, not a view into Buffer's shared pool.
  return new Uint8Array(Buffer.from(p.hex, 'hex'));
}

export function payloadOf(bytes: Uint8Array): Payload {
  try {
    const text = STRICT.decode(bytes);
    // A lone surrogate cannot be written back from a JS string: such text is not UTF-8 anyway.
    return text;
  } catch {
    return { hex: Buffer.from(bytes).toString('hex') };
  }
}

export function inputSize(i: FuzzInput): number {
  return i.ticks.reduce((n, p) => n + (typeof p === 'string' ? p.length : p.hex.length / 2), 0);
}

/** The artifact name of an input: its content hash. */
export function inputHash(i: FuzzInput): string {
  return createHash('sha256').update(JSON.stringify({ template: i.template, ticks: i.ticks })).digest('hex').slice(0, 16);
}

/** The input read back from JSON (an artifact, a corpus file), or why not. */
export function parseInput(v: unknown): FuzzInput | string {
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o['template'] !== 'string') return 'no string "template"';
  if (!Array.isArray(o['ticks'])) return 'no "ticks" array';
  const ticks: Payload[] = [];
  for (const t of o['ticks']) {
    if (typeof t === 'string') ticks.push(t);
    else if (typeof t === 'object' && t !== null && typeof (t as { hex?: unknown }).hex === 'string' && /^([0-9a-f]{2})*$/i.test((t as { hex: string }).hex)) ticks.push({ hex: (t as { hex: string }).hex.toLowerCase() });
    else return 'a tick is neither a string nor {"hex": "…"}';
  }
  return { template: o['template'], ticks };
}
