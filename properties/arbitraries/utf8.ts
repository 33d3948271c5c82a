// UTF-8 edge cases: strings that stress a pack's string handling, and byte
// sequences that make a text invalid UTF-8.

import fc from 'fast-check';

/** Single characters worth including in strings (all Unicode scalar values). */
export const UTF8_EDGE_CHARS: readonly string[] = [
  '\u0000', // NUL (JSON writes \u0000; an interior NUL trips C-string code)
  '\u0001',
  '\u001F',
  '\u007F', // DEL: the last 1-byte form
  '\u0080', // first 2-byte form
  '\u00E9', // é
  '\u07FF', // last 2-byte form
  '\u0800', // first 3-byte form
  '\u20AC', // €
  '\u2028', // LINE SEPARATOR (invalid raw in old JS string literals)
  '\u2029', // PARAGRAPH SEPARATOR
  '\uFEFF', // BOM / ZWNBSP
  '\uFFFD', // REPLACEMENT CHARACTER
  '\uFDD0', // noncharacter
  '\uFFFE', // noncharacter
  '\uFFFF', // noncharacter, last 3-byte form
  '\u{10000}', // first 4-byte form
  '\u{1F600}', // 😀 (a surrogate pair in UTF-16)
  '\u{1FFFE}', // noncharacter
  '\u{10FFFF}', // last scalar value, noncharacter
  '"',
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
];

/** Lone surrogates (not Unicode scalar values; JSON.stringify writes them as `\udXXX`). */
export const LONE_SURROGATES: readonly string[] = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

export interface Utf8EdgeOptions {
  /** Also mix in lone surrogates (U+D800..U+DFFF). Default false. */
  loneSurrogates?: boolean;
  /** Most pieces joined into one string. Default 8. */
  maxPieces?: number;
}

const fromCodePoint = (cp: number): string => String.fromCodePoint(cp);

// fast-check's own 'binary' unit costs seconds on first use (it builds a
// reverse map of all 1.1M code points to unmap its dangerous-string slices),
// so the generators use this one: the same values, built with a plain map.
const SCALAR_VALUE_CHAR: fc.Arbitrary<string> = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((x) => fromCodePoint(x < 0xd800 ? x : x + 0x800));

/** Any one Unicode scalar value (U+0000..U+10FFFF without the surrogates). */
export function scalarValueChar(): fc.Arbitrary<string> {
  return SCALAR_VALUE_CHAR;
}

/** Strings of any Unicode scalar values (never a lone surrogate). */
export function unicodeString(constraints: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> {
  return fc.string({ ...constraints, unit: SCALAR_VALUE_CHAR });
}

/** A character of exactly `n` UTF-8 bytes (n = 1..4), never a surrogate. */
export function charOfUtf8Length(n: 1 | 2 | 3 | 4): fc.Arbitrary<string> {
  switch (n) {
    case 1:
      return fc.integer({ min: 0, max: 0x7f }).map(fromCodePoint);
    case 2:
      return fc.integer({ min: 0x80, max: 0x7ff }).map(fromCodePoint);
    case 3:
      // 0x800..0xFFFF without the surrogate block 0xD800..0xDFFF
      return fc.integer({ min: 0x800, max: 0xffff - 0x800 }).map((x) => fromCodePoint(x < 0xd800 ? x : x + 0x800));
    case 4:
      return fc.integer({ min: 0x10000, max: 0x10ffff }).map(fromCodePoint);
  }
}

/**
 * Strings mixing ordinary text with UTF-8 edge cases: 2-, 3- and 4-byte
 * forms, U+0000, U+2028, U+2029, U+FEFF, U+FFFD, noncharacters, surrogate
 * pairs, JSON-special characters, and (only with `loneSurrogates: true`)
 * lone surrogates.
 */
export function utf8EdgeString(opts: Utf8EdgeOptions = {}): fc.Arbitrary<string> {
  const pieces: fc.WeightedArbitrary<string>[] = [
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
    { weight: 2, arbitrary: unicodeString({ maxLength: 3 }) },
    { weight: 4, arbitrary: fc.constantFrom(...UTF8_EDGE_CHARS) },
    { weight: 1, arbitrary: charOfUtf8Length(2) },
    { weight: 1, arbitrary: charOfUtf8Length(3) },
    { weight: 1, arbitrary: charOfUtf8Length(4) },
  ];
  if (opts.loneSurrogates === true) {
    pieces.push(
      { weight: 2, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
      { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((x) => String.fromCharCode(x)) },
    );
  }
  return fc.array(fc.oneof(...pieces), { maxLength: opts.maxPieces ?? 8 }).map((parts) => parts.join(''));
}

/** A byte sequence that makes the text containing it invalid UTF-8. */
export interface InvalidUtf8 {
  /** Which defect: stray-continuation, overlong, surrogate, f5-ff, c0-c1, above-max, truncated. */
  kind: string;
  bytes: Uint8Array;
  /**
   * True for a multi-byte sequence cut short: it is invalid only where the
   * next byte is not a continuation byte, i.e. at the very end of the text or
   * before an ASCII byte (or any code point's first byte). Every other kind
   * is invalid anywhere at a code point boundary.
   */
  truncated: boolean;
}

const bytesOf = (kind: string, truncated = false) => (bytes: readonly number[]): InvalidUtf8 => ({
  kind,
  bytes: Uint8Array.from(bytes),
  truncated,
});

const continuation = fc.integer({ min: 0x80, max: 0xbf });

/** The UTF-8 encoding of a code point (no checks). */
function encodeCodePoint(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}

/**
 * Byte sequences that make any text invalid UTF-8: stray continuation bytes
 * (80..BF), overlong forms (C0 AF, E0 80 AF, F0 80 80 AF, …), encoded
 * surrogates (ED A0 80 … ED BF BF), bytes F5..FF, lone C0/C1, a code point
 * above U+10FFFF, and a multi-byte sequence cut short (flagged `truncated`).
 */
export function invalidUtf8Sequence(): fc.Arbitrary<InvalidUtf8> {
  return fc.oneof(
    fc.array(continuation, { minLength: 1, maxLength: 3 }).map(bytesOf('stray-continuation')),
    fc
      .oneof(
        fc.constantFrom([0xc0, 0xaf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0xaf], [0xf0, 0x8f, 0xbf, 0xbf]),
        // any code point below 0x800 written in three bytes
        fc.integer({ min: 0, max: 0x7ff }).map((cp) => [0xe0, 0x80 | (cp >> 6), 0x80 | (cp & 0x3f)]),
      )
      .map(bytesOf('overlong')),
    fc
      .oneof(
        fc.constantFrom([0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xed, 0xad, 0xbf], [0xed, 0xb0, 0x80]),
        fc.integer({ min: 0xd800, max: 0xdfff }).map(encodeCodePoint),
        // a surrogate pair encoded as two 3-byte forms (CESU-8)
        fc.constant([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]),
      )
      .map(bytesOf('surrogate')),
    fc
      .tuple(fc.integer({ min: 0xf5, max: 0xff }), fc.array(continuation, { maxLength: 3 }))
      .map(([lead, rest]) => [lead, ...rest])
      .map(bytesOf('f5-ff')),
    fc.constantFrom([0xc0], [0xc1]).map(bytesOf('c0-c1')),
    fc
      .integer({ min: 0x110000, max: 0x13ffff })
      .map(encodeCodePoint)
      .map(bytesOf('above-max')),
    fc
      .oneof(charOfUtf8Length(2), charOfUtf8Length(3), charOfUtf8Length(4))
      .chain((ch) => {
        const full = encodeCodePoint(ch.codePointAt(0) ?? 0);
        return fc.integer({ min: 1, max: full.length - 1 }).map((keep) => full.slice(0, keep));
      })
      .map(bytesOf('truncated', true)),
  );
}
