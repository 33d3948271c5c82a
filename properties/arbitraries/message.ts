// fast-check arbitraries for valid Messages: every value is drawn only from
// the "must accept" column of ABI.md's table (harness/abi/message-schema.ts).

import fc from 'fast-check';
import { I64_MAX, I64_MIN, INPUT_VARIANTS, NETWORK_EVENT_TYPES, type InputVariant } from '../../harness/abi/message-schema.ts';
import { RawJson, jsonObject, utf8, type Json } from './json-text.ts';
import { scalarValueChar, unicodeString } from './utf8.ts';

export interface MessageOptions {
  /** Strings for String / Error data and RemoteReference members. Must not yield lone surrogates for a "valid" Message. */
  stringArb?: fc.Arbitrary<string>;
  /** Variants validMessage draws from (default: all but StreamHandle). */
  variants?: readonly InputVariant[];
}

/** EncodableValue as serde writes it. */
export interface EncodableJson {
  [k: string]: Json;
  data: number[];
}

/** Default strings: any Unicode scalar values (no lone surrogates), some ASCII-heavy. */
export function defaultString(): fc.Arbitrary<string> {
  return fc.oneof(unicodeString({ maxLength: 16 }), fc.string({ unit: 'grapheme-ascii', maxLength: 16 }));
}

/** Small JSON texts for the inside of an EncodableValue (no lone surrogate escapes). */
export function smallJsonText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.json({ maxDepth: 2, stringUnit: scalarValueChar() }) },
    { weight: 1, arbitrary: i64().map((b) => b.toString()) },
    { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false', '0', '""', '[]', '{}', '{"a":[1,2,{"b":null}]}', '"\\u0000"', '1.5e300') },
  );
}

/** `{"data": [u8, …]}`: the UTF-8 bytes of a random small JSON text. */
export function encodableValue(opts: { text?: fc.Arbitrary<string> } = {}): fc.Arbitrary<EncodableJson> {
  return (opts.text ?? smallJsonText()).map((text) => ({ data: Array.from(utf8(text)) }));
}

const I64_EDGES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n - 1n),
  -(2n ** 53n),
  -(2n ** 53n + 1n),
  I64_MAX,
  I64_MAX - 1n,
  I64_MIN,
  I64_MIN + 1n,
];

/** i64 values, biased to the edges (0, ±1, ±2^53±1, 2^63-1, -2^63, …). */
export function i64(): fc.Arbitrary<bigint> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...I64_EDGES) },
    { weight: 3, arbitrary: fc.bigInt({ min: I64_MIN, max: I64_MAX }) },
    { weight: 2, arbitrary: fc.integer().map((n) => BigInt(n)) },
  );
}

const FLOAT_EDGES: readonly number[] = [
  0,
  -0,
  1,
  -1,
  0.1,
  1.5,
  -2.5e-3,
  Number.EPSILON,
  Number.MIN_VALUE, // 5e-324, the tiniest subnormal
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e300,
  -1e-300,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  2 ** 64,
  -(2 ** 63),
];

/** Finite number text JSON.stringify never writes, all must-accept for Float. */
const FLOAT_RAW: readonly string[] = [
  '1.0',
  '-0.0',
  '-0',
  '1e3',
  '1E+3',
  '2.5e-3',
  '1.5E2',
  '0.0',
  '123456789012345678901234567890', // beyond u64: serde_json reads it as f64
  '0.1000000000000000055511151231257827', // more digits than f64 holds
];

/** Finite doubles: random, tiny and huge magnitudes, integers, and number forms such as `1.0` and `1e3`. */
export function finiteFloat(): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 2, arbitrary: fc.constantFrom(...FLOAT_EDGES) },
    { weight: 2, arbitrary: fc.integer().map((n) => n as number) },
    { weight: 1, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(...FLOAT_RAW).map((t) => new RawJson(t)) },
  );
}

/** Arrays of integers 0..255, biased to the edges. */
export function u8Array(): fc.Arbitrary<number[]> {
  return fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 127, 128, 254, 255)), { maxLength: 32 });
}

/** The three RemoteReference members, in a random order. */
function remoteReference(str: fc.Arbitrary<string>): fc.Arbitrary<Json> {
  return fc
    .tuple(str, str, str, fc.shuffledSubarray(['network_id', 'actor_id', 'port'], { minLength: 3, maxLength: 3 }))
    .map(([network_id, actor_id, port, order]) => {
      const members: Record<string, string> = { network_id, actor_id, port };
      return jsonObject(order.map((k) => [k, members[k] as string]));
    });
}

function networkEvent(): fc.Arbitrary<Json> {
  return fc
    .tuple(fc.constantFrom(...NETWORK_EVENT_TYPES), encodableValue(), fc.boolean())
    .map(([event_type, data, typeFirst]) => (typeFirst ? { event_type, data } : { data, event_type }));
}

/** The envelope `{"type": variant, "data": data}`, members in either order. */
export function envelope(variant: string, data: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.tuple(data, fc.boolean()).map(([d, typeFirst]) => (typeFirst ? { type: variant, data: d } : { data: d, type: variant }));
}

/** The `data` of a variant, from the must-accept column only. */
export function dataOf(variant: Exclude<InputVariant, 'Flow'>, opts: MessageOptions = {}): fc.Arbitrary<Json> {
  const str = opts.stringArb ?? defaultString();
  switch (variant) {
    case 'Boolean':
      return fc.boolean();
    case 'Integer':
      return i64();
    case 'Float':
      return finiteFloat();
    case 'String':
    case 'Error':
      return str;
    case 'Event':
    case 'Object':
    case 'Any':
      return encodableValue();
    case 'Array':
      return fc.array(encodableValue(), { maxLength: 4 });
    case 'Bytes':
    case 'Encoded':
      return u8Array();
    case 'Optional':
      return fc.oneof(fc.constant(null), encodableValue());
    case 'RemoteReference':
      return remoteReference(str);
    case 'NetworkEvent':
      return networkEvent();
  }
}

/** A valid (must-accept) Message of one variant. */
export function messageOf(variant: InputVariant, opts: MessageOptions = {}): fc.Arbitrary<Json> {
  if (variant === 'Flow') return fc.constant({ type: 'Flow' });
  return envelope(variant, dataOf(variant, opts));
}

/** A valid (must-accept) Message of any variant but StreamHandle. */
export function validMessage(opts: MessageOptions = {}): fc.Arbitrary<Json> {
  const variants = opts.variants ?? INPUT_VARIANTS;
  if (variants.length === 0) throw new Error('validMessage: no variants');
  return fc.oneof(...variants.map((v) => messageOf(v, opts)));
}
