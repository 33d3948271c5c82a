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
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20 || bytes[i]! >= 0x7f) return null;
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** A dictionary file that cannot be read: its line number and what is wrong there. */
export class DictFileError extends Error {}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const ENC = new TextEncoder();

/**
 * An AFL/libFuzzer dictionary (`-dict=`, `-x`): one token per line,
 * `name="value"` (AFL's `name@level="value"` too) or `"value"`, with `\\`,
 * `\"` and `\xNN` escapes; blank lines and `#` comments are skipped. A token
 * that is UTF-8 becomes that text, any other bytes one character per byte
 * (the mutator splices tokens into JSON text). Decimal integer tokens are
 * also integers for numeric slots.
 */
export function parseDictFile(text: string, file: string): Dictionary {
  const strings: string[] = [];
  const ints: bigint[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `${file} line ${i + 1}`;
    const m = /^(?:[A-Za-z_][\w]*(?:@\d+)?\s*=\s*)?"(.*)"$/.exec(line);
    if (!m) throw new DictFileError(`${where}: expected name="value" or "value", got ${JSON.stringify(line.slice(0, 40))}`);
    const bytes: number[] = [];
    const body = m[1]!;
    for (let k = 0; k < body.length; k++) {
      const c = String.fromCodePoint(body.codePointAt(k)!);
      if (c === '"') throw new DictFileError(`${where}: an unescaped quote inside the value (write \\")`);
      if (c !== '\\') {
        bytes.push(...ENC.encode(c));
        k += c.length - 1;
        continue;
      }
      const e = body[k + 1];
      if (e === '\\' || e === '"') {
        bytes.push(e.charCodeAt(0));
        k++;
      } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(k + 2, k + 4))) {
        bytes.push(parseInt(body.slice(k + 2, k + 4), 16));
        k += 3;
      } else throw new DictFileError(`${where}: unknown escape \\${e ?? ''} (the format has \\\\, \\" and \\xNN)`);
    }
    if (!bytes.length) throw new DictFileError(`${where}: an empty token`);
    const u8 = Uint8Array.from(bytes);
    let token: string;
    try {
      token = UTF8.decode(u8);
    } catch {
      token = String.fromCharCode(...u8);
    }
    strings.push(token);
    if (/^-?\d{1,19}$/.test(token)) ints.push(BigInt(token));
  });
  return { strings, ints };
}
