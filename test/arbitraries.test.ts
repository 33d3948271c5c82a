import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLosslessNumber } from 'lossless-json';
import { INPUT_VARIANTS, classifyMessage, classifyPayload, parseLossless, hasLoneSurrogate } from '../harness/abi/message-schema.ts';
import {
  MiB,
  RawJson,
  badShapeMessage,
  badShapePayload,
  buildLargePayload,
  encodableValue,
  i64,
  invalidJsonPayload,
  invalidUtf8Payload,
  invalidUtf8Sequence,
  jsonObject,
  largePayload,
  messageOf,
  scalarValueChar,
  stringifyJson,
  utf8,
  utf8EdgeString,
  validMessage,
  validPayload,
  type Json,
  type PayloadCase,
} from '../properties/arbitraries/index.ts';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });
const PORTS = ['in', 'data', 'a"b\\c', 'é'];

function decodes(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function jsonParses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

describe('stringifyJson', () => {
  it('writes bigints exactly, RawJson literally, and keeps member order', () => {
    expect(stringifyJson({ type: 'Integer', data: 9223372036854775807n })).toBe('{"type":"Integer","data":9223372036854775807}');
    expect(stringifyJson({ data: -9223372036854775808n, type: 'Integer' })).toBe('{"data":-9223372036854775808,"type":"Integer"}');
    expect(stringifyJson([new RawJson('1.0'), new RawJson('-0'), 1.5, -0, true, null])).toBe('[1.0,-0,1.5,0,true,null]');
  });
  it('escapes lone surrogates and U+0000, and keeps other characters', () => {
    expect(stringifyJson('\ud800')).toBe('"\\ud800"');
    expect(stringifyJson('a\udfffb')).toBe('"a\\udfffb"');
    expect(stringifyJson('\u0000')).toBe('"\\u0000"');
    expect(stringifyJson('😀\u2028"\\')).toBe('"😀\u2028\\"\\\\"');
  });
  it('writes a __proto__ member built with jsonObject', () => {
    expect(stringifyJson(jsonObject([['__proto__', 1], ['b', [2]]]))).toBe('{"__proto__":1,"b":[2]}');
  });
  it('refuses numbers that have no JSON form', () => {
    expect(() => stringifyJson(Number.NaN)).toThrow();
    expect(() => stringifyJson(Number.POSITIVE_INFINITY)).toThrow();
  });
  it('agrees with JSON.stringify on plain JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3, stringUnit: scalarValueChar() }), (v) => {
        expect(stringifyJson(v as Json)).toBe(JSON.stringify(v));
      }),
      { numRuns: 200 },
    );
  });
});

describe('utf8 arbitraries', () => {
  it('utf8EdgeString has no lone surrogates unless asked, and round-trips through JSON', () => {
    fc.assert(
      fc.property(utf8EdgeString(), (s) => {
        expect(hasLoneSurrogate(s)).toBe(false);
        expect(JSON.parse(stringifyJson(s))).toBe(s);
        expect(lossy.decode(utf8(s))).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
  it('utf8EdgeString mixes in the edge cases', () => {
    const all = fc.sample(utf8EdgeString(), { numRuns: 400, seed: 42 }).join('');
    for (const ch of ['\u0000', '\u2028', '\u2029', '\uFEFF', '\uFFFD', '\uFFFE', '\uFFFF', '\u{1FFFE}', '\u{10FFFF}', '\uFDD0', '\u{1F600}', '"', '\\']) {
      expect(all.includes(ch), `U+${ch.codePointAt(0)?.toString(16)}`).toBe(true);
    }
    const lengths = new Set([...all].map((c) => utf8(c).length));
    expect([...lengths].sort()).toEqual([1, 2, 3, 4]);
  });
  it('utf8EdgeString({ loneSurrogates: true }) yields lone surrogates, written as escapes', () => {
    const withLone = fc.sample(utf8EdgeString({ loneSurrogates: true }), { numRuns: 300, seed: 7 }).filter(hasLoneSurrogate);
    expect(withLone.length).toBeGreaterThan(10);
    for (const s of withLone) {
      const text = stringifyJson(s);
      expect(text).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
      expect(decodes(utf8(text))).toBe(true);
      expect(JSON.parse(text)).toBe(s);
    }
  });
  it('invalidUtf8Sequence makes text invalid UTF-8 (cut sequences at the end or before ASCII)', () => {
    fc.assert(
      fc.property(invalidUtf8Sequence(), utf8EdgeString(), ({ bytes, truncated }, s) => {
        const prefix = utf8(s);
        const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
        expect(decodes(cat(prefix, bytes))).toBe(false);
        expect(decodes(cat(prefix, bytes, utf8('a')))).toBe(false);
        expect(decodes(cat(prefix, bytes, utf8('"}')))).toBe(false);
        if (!truncated) {
          expect(decodes(cat(prefix, bytes, utf8('é')))).toBe(false);
          expect(decodes(cat(prefix, bytes, utf8('😀')))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('invalidUtf8Sequence covers every defect', () => {
    const kinds = new Set(fc.sample(invalidUtf8Sequence(), { numRuns: 300, seed: 1 }).map((x) => x.kind));
    expect([...kinds].sort()).toEqual(['above-max', 'c0-c1', 'f5-ff', 'overlong', 'stray-continuation', 'surrogate', 'truncated']);
  });
});

describe('message arbitraries', () => {
  const roundTrip = (m: Json) => parseLossless(stringifyJson(m));

  it('validMessage always classifies valid', () => {
    fc.assert(
      fc.property(validMessage(), (m) => {
        const r = classifyMessage(roundTrip(m), 'input');
        expect(r.reason ?? 'valid', stringifyJson(m)).toBe('valid');
      }),
      { numRuns: 300 },
    );
  });

  it('validMessage with UTF-8 edge strings classifies valid', () => {
    fc.assert(
      fc.property(validMessage({ stringArb: utf8EdgeString() }), (m) => {
        const r = classifyMessage(roundTrip(m), 'input');
        expect(r.reason ?? 'valid', stringifyJson(m)).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('messageOf(v) is a valid Message of variant v, for every variant but StreamHandle', () => {
    expect(INPUT_VARIANTS).toHaveLength(15);
    for (const v of INPUT_VARIANTS) {
      fc.assert(
        fc.property(messageOf(v), (m) => {
          const parsed = roundTrip(m) as Record<string, unknown>;
          expect(parsed['type']).toBe(v);
          const r = classifyMessage(parsed, 'input');
          expect(r.reason ?? 'valid', stringifyJson(m)).toBe('valid');
        }),
        { numRuns: 40 },
      );
    }
  });

  it('writes both member orders', () => {
    const orders = new Set(fc.sample(messageOf('Boolean'), { numRuns: 100, seed: 3 }).map((m) => Object.keys(m as object).join(',')));
    expect([...orders].sort()).toEqual(['data,type', 'type,data']);
  });

  it('Integer data keeps its exact i64 value on the wire', () => {
    fc.assert(
      fc.property(i64(), (n) => {
        const parsed = parseLossless(stringifyJson({ type: 'Integer', data: n })) as { data: unknown };
        expect(isLosslessNumber(parsed.data)).toBe(true);
        expect(BigInt(String(parsed.data))).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it('i64 hits the edges beyond 2^53', () => {
    const values = new Set(fc.sample(i64(), { numRuns: 500, seed: 5 }));
    for (const edge of [0n, 1n, -1n, 2n ** 53n + 1n, -(2n ** 53n + 1n), 2n ** 63n - 1n, -(2n ** 63n)]) expect(values.has(edge), String(edge)).toBe(true);
  });

  it('encodableValue holds the UTF-8 bytes of a JSON text', () => {
    fc.assert(
      fc.property(encodableValue(), (e) => {
        const text = fatal.decode(Uint8Array.from(e.data));
        expect(jsonParses(text)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('badShapeMessage always classifies invalid', () => {
    fc.assert(
      fc.property(badShapeMessage(), ({ kind, message }) => {
        const r = classifyMessage(roundTrip(message), 'input');
        expect(r.verdict, `${kind}: ${stringifyJson(message)}`).toBe('invalid');
      }),
      { numRuns: 400 },
    );
  });
});

describe('payload arbitraries', () => {
  const classify = (c: PayloadCase) => classifyPayload(parseLossless(c.text ?? ''));

  it('validPayload is UTF-8 JSON that classifies valid', () => {
    fc.assert(
      fc.property(validPayload(PORTS), (c) => {
        expect(c.text).toBeDefined();
        expect(sameBytes(c.bytes, utf8(c.text ?? ''))).toBe(true);
        expect(fatal.decode(c.bytes)).toBe(c.text);
        const r = classify(c);
        expect(r.reason ?? 'valid', c.text).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('validPayload with edge strings for port names and Strings classifies valid', () => {
    fc.assert(
      fc.property(validPayload(PORTS, { stringArb: utf8EdgeString() }), (c) => {
        const r = classify(c);
        expect(r.reason ?? 'valid', c.text).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('validPayload uses declared ports, random ports, extra members, empty and missing input', () => {
    const cases = fc.sample(validPayload(['in', 'out']), { numRuns: 300, seed: 11 });
    const payloads = cases.map((c) => JSON.parse(c.text ?? '') as { input?: Record<string, unknown>; [k: string]: unknown });
    const keys = payloads.flatMap((p) => Object.keys(p.input ?? {}));
    expect(keys).toContain('in');
    expect(keys).toContain('out');
    expect(keys.some((k) => k !== 'in' && k !== 'out')).toBe(true);
    expect(keys.some((k) => k.includes('"') || k.includes('\\'))).toBe(true);
    expect(payloads.some((p) => !('input' in p))).toBe(true);
    expect(payloads.some((p) => p.input !== undefined && Object.keys(p.input).length === 0)).toBe(true);
    expect(payloads.some((p) => 'config' in p)).toBe(true);
    const variants = new Set(payloads.flatMap((p) => Object.values(p.input ?? {}).map((m) => (m as { type: string }).type)));
    expect([...variants].sort()).toEqual([...INPUT_VARIANTS].sort());
  });

  it('badShapePayload is UTF-8 JSON that classifies invalid', () => {
    fc.assert(
      fc.property(badShapePayload(PORTS), (c) => {
        expect(fatal.decode(c.bytes)).toBe(c.text);
        expect(jsonParses(c.text ?? '')).toBe(true);
        const r = classify(c);
        expect(r.verdict, `${c.kind}: ${c.text}`).toBe('invalid');
      }),
      { numRuns: 300 },
    );
  });

  it('badShapePayload covers top-level, input and Message defects', () => {
    const kinds = fc.sample(badShapePayload(PORTS), { numRuns: 300, seed: 13 }).map((c) => c.kind);
    for (const prefix of ['bad-shape:top-level-', 'bad-shape:input-', 'bad-shape:message:type-', 'bad-shape:message:unknown-variant', 'bad-shape:message:Integer-', 'bad-shape:message:message-']) {
      expect(kinds.some((k) => k.startsWith(prefix)), prefix).toBe(true);
    }
  });

  it('invalidUtf8Payload fails a fatal UTF-8 decoder, and only inside a string literal or at the end', () => {
    fc.assert(
      fc.property(invalidUtf8Payload(PORTS), (c) => {
        expect(c.text).toBeUndefined();
        expect(decodes(c.bytes)).toBe(false);
        // With the bad bytes replaced by U+FFFD the payload is valid again:
        // the splice was inside a string literal (or a cut sequence at the very end).
        let text = lossy.decode(c.bytes);
        if (c.kind.endsWith('@end')) text = text.replace(/\uFFFD+$/, '');
        const r = classifyPayload(parseLossless(text));
        expect(r.reason ?? 'valid', `${c.kind}: ${text}`).toBe('valid');
      }),
      { numRuns: 200 },
    );
  });

  it('invalidJsonPayload is UTF-8 that JSON.parse (and parseLossless) rejects', () => {
    fc.assert(
      fc.property(invalidJsonPayload(PORTS), (c) => {
        expect(c.text).toBeDefined();
        expect(fatal.decode(c.bytes)).toBe(c.text);
        expect(jsonParses(c.text ?? ''), `${c.kind}: ${JSON.stringify(c.text)}`).toBe(false);
        expect(() => parseLossless(c.text ?? '')).toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it('invalidJsonPayload covers each form', () => {
    const kinds = new Set(fc.sample(invalidJsonPayload(PORTS), { numRuns: 300, seed: 17 }).map((c) => c.kind.replace(/-(input|top)$/, '')));
    expect([...kinds].sort()).toEqual(
      ['invalid-json:bad-token', 'invalid-json:empty', 'invalid-json:random-text', 'invalid-json:single-quotes', 'invalid-json:trailing-comma', 'invalid-json:trailing-garbage', 'invalid-json:truncation', 'invalid-json:unquoted-keys'].sort(),
    );
  });

  it('largePayload is 1..16 MiB of valid payload, built from its seed', () => {
    fc.assert(
      fc.property(largePayload(['in', 'big"port']), (c) => {
        const { size, kind } = c.spec;
        expect(size).toBeGreaterThanOrEqual(MiB);
        expect(size).toBeLessThanOrEqual(16 * MiB);
        expect(c.kind).toBe(`large:${kind}:${size}`);
        expect(c.bytes.length).toBe(size);
        const text = c.text ?? '';
        expect(fatal.decode(c.bytes)).toBe(text);
        const v = JSON.parse(text) as { input: Record<string, { type: string; data: unknown }> };
        const [message] = Object.values(v.input);
        expect(message?.type).toBe(kind === 'string' ? 'String' : 'Bytes');
      }),
      { numRuns: 3 },
    );
  });

  it('largePayload sizes are biased to 1 MiB, 16 MiB and between (bytes built lazily)', () => {
    const sizes = fc.sample(largePayload(['in']), { numRuns: 200, seed: 19 }).map((c) => c.spec.size);
    expect(sizes).toContain(MiB);
    expect(sizes).toContain(16 * MiB);
    expect(sizes.some((s) => s > MiB && s < 16 * MiB)).toBe(true);
  });

  it('buildLargePayload is deterministic, exact in size, and classifies valid', () => {
    for (const kind of ['string', 'bytes'] as const) {
      for (const size of [MiB, MiB + 1, MiB + 3, MiB + 131_077]) {
        const spec = { size, kind, seed: 1234, port: 'in' };
        const a = buildLargePayload(spec);
        expect(a.length).toBe(size);
        expect(sameBytes(a, buildLargePayload(spec))).toBe(true);
        const v = JSON.parse(fatal.decode(a)) as { input: { in: { type: string; data: unknown } } };
        if (kind === 'bytes') {
          const data = v.input.in.data as unknown[];
          expect(data.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255)).toBe(true);
        } else if (size === MiB) {
          const r = classifyPayload(parseLossless(fatal.decode(a)));
          expect(r.reason ?? 'valid').toBe('valid');
        }
        expect(v.input.in.type).toBe(kind === 'string' ? 'String' : 'Bytes');
      }
      expect(sameBytes(buildLargePayload({ size: MiB, kind, seed: 1, port: 'in' }), buildLargePayload({ size: MiB, kind, seed: 2, port: 'in' }))).toBe(false);
    }
  });
});
