// The fuzzer's dictionary: tokens worth splicing into inputs. Static ones
// come from the module (instrument.ts: data-segment strings, compared
// constants); dynamic ones from CmpLog (comparison operands and the bytes a
// memcmp-like call compared, recorded while inputs ran).

export interface Dictionary {
  strings: string[];
  /** As signed values of their width; the mutator also tries them unsigned. */
  ints: bigint[];
}

export const EMPTY_DICTIONARY: Dictionary = { strings: [], ints: [] };

/** A bounded, insertion-ordered token set: CmpLog may report thousands of values. */
export class TokenBag<T> {
  private readonly items: T[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly limit: number) {}

  add(t: T): boolean {
    const key = typeof t === 'bigint' ? `n${t}` : `s${String(t)}`;
    if (this.seen.has(key) || this.items.length >= this.limit) return false;
    this.seen.add(key);
    this.items.push(t);
    return true;
  }

  has(t: T): boolean {
    return this.seen.has(typeof t === 'bigint' ? `n${t}` : `s${String(t)}`);
  }

  get size(): number {
    return this.items.length;
  }

  pick(rand: () => number): T | undefined {
    return this.items.length ? this.items[Math.floor(rand() * this.items.length)] : undefined;
  }

  values(): readonly T[] {
    return this.items;
  }
}

/** Tokens a string compare is made of: printable ASCII of 2..64 bytes. */
export function tokenOf(bytes: Uint8Array): string | null {
  if (bytes.length < 2 || bytes.length > 64) return null;
  for (const c of bytes) if (c < 0x20 || c >= 0x7f) return null;
  return String.fromCharCode(...bytes);
}
