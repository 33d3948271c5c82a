// Equality of two pack results as JSON values: key order ignored, numbers
// compared as exact decimals (an i64 beyond 2^53 is not rounded to a double
// first, and 1.0 equals 1). Results that are not JSON are compared as bytes.
import { isLosslessNumber, parse as parseLossless, compareNumber } from 'lossless-json';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON value of `bytes` (numbers as LosslessNumber), or undefined when they are not UTF-8 JSON (or repeat a member). */
export function parseResult(bytes: Uint8Array): unknown {
  try {
    // A repeated member makes the value depend on the reader: such results are compared byte for byte.
    return parseLossless(STRICT_UTF8.decode(bytes), null, { onDuplicateKey: () => { throw new SyntaxError('duplicate member'); } });
  } catch {
    return undefined;
  }
}

/** Deep equality of two parsed values: objects by their member sets, arrays in order, numbers exactly. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (isLosslessNumber(a) || isLosslessNumber(b)) return isLosslessNumber(a) && isLosslessNumber(b) && compareNumber(a.value, b.value) === 0;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(ob, k) && jsonEqual((a as Record<string, unknown>)[k], ob[k]));
}

/** Two results the same: as JSON values when both parse, else as bytes. */
export function sameResult(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  const va = parseResult(a);
  const vb = parseResult(b);
  if (va !== undefined && vb !== undefined) return jsonEqual(va, vb);
  return va === undefined && vb === undefined && Buffer.compare(a, b) === 0;
}
