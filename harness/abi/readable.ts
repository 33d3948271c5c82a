// Turns what properties see (bytes, bigints, megabyte strings) into short,
// readable text and JSON for messages, counterexamples and reports.

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const HEAD = 160;

/** `"{\"input\":…}" (25 bytes)` for UTF-8, `hex c0 af 7b … (3 bytes)` otherwise. */
export function showBytes(bytes: Uint8Array, max = HEAD): string {
  const n = bytes.length;
  const unit = n === 1 ? 'byte' : 'bytes';
  let text: string | null = null;
  try {
    text = STRICT_UTF8.decode(bytes.subarray(0, Math.min(n, max * 4)));
  } catch {
    // A cut multi-byte sequence at the window's end is not a reason to show hex.
    if (n > max * 4) {
      try {
        text = STRICT_UTF8.decode(bytes.subarray(0, max * 4 - 3));
      } catch {
        text = null;
      }
    }
  }
  if (text !== null) {
    const shown = text.length > max ? `${JSON.stringify(text.slice(0, max)).slice(0, -1)}…"` : JSON.stringify(text);
    return `${shown} (${n} ${unit})`;
  }
  const hex = Array.from(bytes.subarray(0, max / 2), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `hex ${hex}${n > max / 2 ? ' …' : ''} (${n} ${unit}, not UTF-8)`;
}

export function showString(s: string, max = HEAD): string {
  return s.length > max ? `${JSON.stringify(s.slice(0, max)).slice(0, -1)}…" (${s.length} chars)` : JSON.stringify(s);
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** JSON-safe, readable form of a generated value (a counterexample). */
export function readable(value: unknown, depth = 0): unknown {
  if (depth > 12) return '…';
  if (value instanceof Uint8Array) return showBytes(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return value.length > 400 ? showString(value, 400) : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), readable(v, depth + 1)]));
  if (Array.isArray(value)) {
    const head = value.slice(0, 50).map((v) => readable(v, depth + 1));
    return value.length > 50 ? [...head, `… ${value.length - 50} more`] : head;
  }
  const own = (value as { toString?: () => string }).toString;
  if (own && own !== Object.prototype.toString && !('kind' in (value as object))) return String(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = readable(v, depth + 1);
  return out;
}
