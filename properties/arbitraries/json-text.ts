// A tiny JSON AST that can carry exact i64 integers (bigint) and literal
// number text (RawJson), and its serialiser.

/** Literal JSON text, written as is (for number forms JSON.stringify never writes, such as `1.0`). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON(): string {
    return this.text;
  }
}

export type Json = null | boolean | number | bigint | string | RawJson | Json[] | { [k: string]: Json };

/**
 * Serialise a Json value compactly. bigint → its decimal digits; numbers and
 * strings via JSON.stringify (so lone surrogates become `\udXXX` escapes and
 * U+0000 `\u0000`); object members in the object's own key order.
 */
export function stringifyJson(v: Json): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`stringifyJson: ${v} has no JSON form`);
      return JSON.stringify(v);
    case 'string':
      return JSON.stringify(v);
    case 'object':
      break;
    default:
      throw new TypeError(`stringifyJson: not a Json value: ${typeof v}`);
  }
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      const e = v[i];
      if (e === undefined) throw new TypeError('stringifyJson: array hole');
      out += stringifyJson(e);
    }
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${stringifyJson(x)}`;
  }
  return `${out}}`;
}

/** Build an object from entries as own data members (safe for a key such as `__proto__`). */
export function jsonObject(entries: Iterable<readonly [string, Json]>): { [k: string]: Json } {
  return Object.fromEntries(entries) as { [k: string]: Json };
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of a string (lone surrogates, if any, become U+FFFD). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
