// A fast way to accept the commonest run results without building them as
// JSON values. checkOutputs (harness/abi/message-schema.ts) parses the result
// losslessly: every number becomes an object, and a 16 MiB Bytes Message is
// millions of them, which made the large-payload property spend seconds in
// the parser and the garbage collector. Here one pass over the text accepts
// results whose every port holds `{"type":"String","data":"…"}`,
// `{"type":"Bytes","data":[n, …]}`, `{"type":"Integer","data":n}` or
// `{"type":"Boolean","data":true|false}` as the grammar of JSON allows them.
// For such a result checkOutputs answers null (no Message of it is invalid:
// any string is a valid or an open String, any array of numbers a valid or an
// open Bytes, any number a valid or an open Integer). Anything else, including every result that might be invalid,
// answers false, and the caller runs checkOutputs for the verdict and its
// reason. True is therefore never a verdict checkOutputs would not give.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** One pass over `text` from `at`; every method returns the position after what it read, or -1. */
class Scanner {
  constructor(private readonly text: string) {}

  ws(at: number): number {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return at;
      at++;
    }
  }

  /** A JSON string: no raw control characters, only the escapes JSON has. */
  string(at: number): number {
    const t = this.text;
    if (t.charCodeAt(at) !== QUOTE) return -1;
    at++;
    for (;;) {
      const c = t.charCodeAt(at);
      if (c === QUOTE) return at + 1;
      if (Number.isNaN(c) || c < 0x20) return -1;
      if (c !== BACKSLASH) {
        at++;
        continue;
      }
      const e = t.charCodeAt(at + 1);
      if (e === 0x75) {
        for (let i = 2; i < 6; i++) if (!isHex(t.charCodeAt(at + i))) return -1;
        at += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) at += 2;
      else return -1;
    }
  }

  /** A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  number(at: number): number {
    const t = this.text;
    if (t.charCodeAt(at) === 0x2d) at++;
    const first = t.charCodeAt(at);
    if (first === 0x30) at++;
    else if (first >= 0x31 && first <= 0x39) at = this.digits(at + 1);
    else return -1;
    if (t.charCodeAt(at) === 0x2e) {
      const after = this.digits(at + 1);
      if (after === at + 1) return -1;
      at = after;
    }
    const e = t.charCodeAt(at);
    if (e === 0x65 || e === 0x45) {
      at++;
      const s = t.charCodeAt(at);
      if (s === 0x2b || s === 0x2d) at++;
      const after = this.digits(at);
      if (after === at) return -1;
      at = after;
    }
    return at;
  }

  private digits(at: number): number {
    const t = this.text;
    for (let c = t.charCodeAt(at); c >= 0x30 && c <= 0x39; c = t.charCodeAt(++at));
    return at;
  }

  /** `[` numbers separated by commas `]`. */
  numberArray(at: number): number {
    const t = this.text;
    if (t.charCodeAt(at) !== 0x5b) return -1;
    at = this.ws(at + 1);
    if (t.charCodeAt(at) === 0x5d) return at + 1;
    for (;;) {
      at = this.number(at);
      if (at < 0) return -1;
      at = this.ws(at);
      const c = t.charCodeAt(at);
      if (c === 0x5d) return at + 1;
      if (c !== 0x2c) return -1;
      at = this.ws(at + 1);
    }
  }

  /** The exact characters `lit` (a member name or a variant name with its quotes). */
  literal(at: number, lit: string): number {
    return this.text.startsWith(lit, at) ? at + lit.length : -1;
  }

  /** Each variant taken here, with the one form of its data for which checkOutputs never says invalid. */
  private readonly variants: [string, (p: number) => number][] = [
    ['"String"', (p) => this.string(p)],
    ['"Bytes"', (p) => this.numberArray(p)],
    // Any JSON number: an integer in range is valid, any other number open (message-schema.ts, i64).
    ['"Integer"', (p) => this.number(p)],
    ['"Boolean"', (p) => (this.literal(p, 'true') >= 0 ? p + 4 : this.literal(p, 'false'))],
  ];

  /** `{"type":V,"data":D}` for a variant V of `variants`, whitespace allowed between tokens. */
  message(at: number): number {
    const t = this.text;
    if (t.charCodeAt(at) !== 0x7b) return -1;
    at = this.literal(this.ws(at + 1), '"type"');
    if (at < 0) return -1;
    at = this.colon(at);
    if (at < 0) return -1;
    let data: ((p: number) => number) | undefined;
    let after = -1;
    for (const [variant, read] of this.variants) {
      after = this.literal(at, variant);
      if (after >= 0) {
        data = read;
        break;
      }
    }
    if (!data) return -1;
    at = this.ws(after);
    if (t.charCodeAt(at) !== 0x2c) return -1;
    at = this.literal(this.ws(at + 1), '"data"');
    if (at < 0) return -1;
    at = this.colon(at);
    if (at < 0) return -1;
    at = data(at);
    if (at < 0) return -1;
    at = this.ws(at);
    return t.charCodeAt(at) === 0x7d ? at + 1 : -1;
  }

  private colon(at: number): number {
    at = this.ws(at);
    return this.text.charCodeAt(at) === 0x3a ? this.ws(at + 1) : -1;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * True when `text` is a JSON object whose every member is a Message in one
 * of the plain forms above (then checkOutputs(text) is null); false
 * means only "not decided here".
 */
export function plainlyValidOutputs(text: string): boolean {
  const s = new Scanner(text);
  let at = s.ws(0);
  if (text.charCodeAt(at) !== 0x7b) return false;
  at = s.ws(at + 1);
  if (text.charCodeAt(at) === 0x7d) return s.ws(at + 1) === text.length;
  for (;;) {
    at = s.string(at);
    if (at < 0) return false;
    at = s.ws(at);
    if (text.charCodeAt(at) !== 0x3a) return false;
    at = s.message(s.ws(at + 1));
    if (at < 0) return false;
    at = s.ws(at);
    const c = text.charCodeAt(at);
    if (c === 0x7d) return s.ws(at + 1) === text.length;
    if (c !== 0x2c) return false;
    at = s.ws(at + 1);
  }
}
