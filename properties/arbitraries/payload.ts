// fast-check arbitraries for whole run payloads (the bytes a host passes to
// `__reflow_pack_actor_run`): valid ones, and each kind of bad one of
// PROPERTIES.md's "one tick" section.

import fc from 'fast-check';
import { INPUT_VARIANTS, MESSAGE_VARIANTS, NETWORK_EVENT_TYPES } from '../../harness/abi/message-schema.ts';
import { RawJson, jsonObject, stringifyJson, utf8, type Json } from './json-text.ts';
import { defaultString, encodableValue, i64, u8Array, validMessage } from './message.ts';
import { invalidUtf8Sequence, scalarValueChar, unicodeString, type InvalidUtf8 } from './utf8.ts';

export interface PayloadCase {
  /** What was generated, e.g. `valid`, `invalid-utf8:overlong@port-name`, `bad-shape:message:Integer-data-string`, `large:bytes:1048576`. */
  kind: string;
  /** The payload text, when the bytes are UTF-8. */
  text?: string;
  /** The payload bytes (the UTF-8 of `text` when there is one). */
  bytes: Uint8Array;
}

export interface PayloadOptions {
  /** Strings for random port names and String / Error data (e.g. utf8EdgeString()). */
  stringArb?: fc.Arbitrary<string>;
  /** Messages for the ports (default validMessage({ stringArb })). */
  messageArb?: fc.Arbitrary<Json>;
  /** Most random (undeclared) port names per payload. Default 3. */
  maxRandomPorts?: number;
}

// ---------------------------------------------------------------------------
// Cases

function showBytes(bytes: Uint8Array, max = 96): string {
  const head = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > max ? `${head} … (${bytes.length} bytes)` : head;
}

function textCase(kind: string, text: string): PayloadCase {
  return {
    kind,
    text,
    bytes: utf8(text),
    [fc.toStringMethod]: () => `${kind}: ${text.length > 2000 ? `${JSON.stringify(text.slice(0, 2000))}… (${text.length} chars)` : JSON.stringify(text)}`,
  } as PayloadCase;
}

function bytesCase(kind: string, bytes: Uint8Array): PayloadCase {
  return { kind, bytes, [fc.toStringMethod]: () => `${kind}: bytes ${showBytes(bytes)}` } as PayloadCase;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Payload structure and rendering

interface Entry {
  key: string;
  value: Json;
}

interface PayloadSpec {
  entries: Entry[];
  input: 'object' | 'empty' | 'missing';
  extras: Array<[string, Json]>;
  inputFirst: boolean;
  style: number;
}

/** Separator styles: [colon, comma, open, close] (all JSON whitespace). */
const STYLES: ReadonlyArray<readonly [string, string, string, string]> = [
  [':', ',', '{', '}'],
  [': ', ', ', '{', '}'],
  [':', ',\n  ', '{\n  ', '\n}'],
  [' : ', ' ,\t', '{\r\n', ' }'],
];

interface RenderHooks {
  /** Literal text for the key of input entry `index` (default: JSON string). */
  portKeyText?: (key: string, index: number) => string | undefined;
  /** Literal text for a top-level key (default: JSON string). */
  topKeyText?: (key: string) => string;
  /** Literal text in place of the `input` object. */
  inputText?: string;
  /** Write a trailing comma inside the input object or the top-level object. */
  trailingComma?: 'input' | 'top';
}

function renderObject(members: Array<[string, string]>, style: number, trailingComma: boolean): string {
  const [colon, comma, open, close] = STYLES[style % STYLES.length] ?? [':', ',', '{', '}'];
  if (members.length === 0) return trailingComma ? '{,}' : '{}';
  return `${open}${members.map(([k, v]) => `${k}${colon}${v}`).join(comma)}${trailingComma ? ',' : ''}${close}`;
}

function renderSpec(spec: PayloadSpec, hooks: RenderHooks = {}): string {
  const top: Array<[string, string]> = [];
  const topKey = (k: string) => hooks.topKeyText?.(k) ?? JSON.stringify(k);
  if (spec.input !== 'missing' || hooks.inputText !== undefined) {
    const inputText =
      hooks.inputText ??
      renderObject(
        spec.entries.map((e, i) => [hooks.portKeyText?.(e.key, i) ?? JSON.stringify(e.key), stringifyJson(e.value)]),
        spec.style,
        hooks.trailingComma === 'input',
      );
    top.push([topKey('input'), inputText]);
  }
  const extras = spec.extras.map(([k, v]): [string, string] => [topKey(k), stringifyJson(v)]);
  const members = spec.inputFirst ? [...top, ...extras] : [...extras, ...top];
  return renderObject(members, spec.style, hooks.trailingComma === 'top');
}

/** Port names: any Unicode scalar values, with quotes, backslashes and familiar names overrepresented. */
export function portName(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: unicodeString({ maxLength: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('"', '\\', '/', 'a', ' ', '\u0000', '\n', '\u00e9', '\u{1F600}'), maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom('in', 'out', 'input', 'data', 'type', 'error', '', '__proto__', 'constructor', 'toString') },
  );
}

/** Small JSON values (no lone surrogates; `-0` is written as `0`). */
function smallJson(): fc.Arbitrary<Json> {
  return fc.jsonValue({ maxDepth: 2, stringUnit: scalarValueChar() }) as fc.Arbitrary<Json>;
}

/** Extra top-level members, ignored by 0.2.1 (never named `input`). */
function extraMembers(): fc.Arbitrary<Array<[string, Json]>> {
  const member = fc.oneof(
    fc.tuple(fc.constant('config'), fc.dictionary(unicodeString({ maxLength: 6 }), smallJson(), { maxKeys: 4 }) as fc.Arbitrary<Json>),
    fc.tuple(
      unicodeString({ maxLength: 8 }).filter((k) => k !== 'input'),
      smallJson(),
    ),
  );
  return fc.uniqueArray(member, { selector: (m) => m[0], maxLength: 2 });
}

/** `input` is an object with entries 5 times in 7, empty once, missing once. */
const DEFAULT_INPUT_MODES: PayloadSpec['input'][] = ['object', 'object', 'object', 'object', 'object', 'empty', 'missing'];

function payloadSpec(ports: readonly string[], opts: PayloadOptions, inputModes = DEFAULT_INPUT_MODES): fc.Arbitrary<PayloadSpec> {
  const msg = opts.messageArb ?? validMessage(opts.stringArb !== undefined ? { stringArb: opts.stringArb } : {});
  const name = opts.stringArb ?? portName();
  return fc
    .record({
      declared: fc.shuffledSubarray([...ports]),
      declaredMsgs: fc.array(msg, { minLength: ports.length, maxLength: ports.length }),
      random: fc.uniqueArray(fc.tuple(name, msg), { selector: (t) => t[0], maxLength: opts.maxRandomPorts ?? 3 }),
      randomFirst: fc.boolean(),
      input: fc.constantFrom(...inputModes),
      extras: fc.oneof({ weight: 3, arbitrary: fc.constant<Array<[string, Json]>>([]) }, { weight: 1, arbitrary: extraMembers() }),
      inputFirst: fc.boolean(),
      style: fc.nat({ max: STYLES.length - 1 }),
    })
    .map(({ declared, declaredMsgs, random, randomFirst, input, extras, inputFirst, style }) => {
      const a: Entry[] = declared.map((key, i) => ({ key, value: declaredMsgs[i] ?? { type: 'Flow' } }));
      const taken = new Set(declared);
      const b: Entry[] = random.filter(([key]) => !taken.has(key)).map(([key, value]) => ({ key, value }));
      const entries = input === 'object' ? (randomFirst ? [...b, ...a] : [...a, ...b]) : [];
      return { entries, input, extras, inputFirst, style };
    });
}

function specKind(spec: PayloadSpec): string {
  const parts = [spec.input === 'missing' ? 'no-input' : spec.entries.length === 0 ? 'empty-input' : `ports=${spec.entries.length}`];
  if (spec.extras.length > 0) parts.push('extra-member');
  return parts.join(',');
}

/**
 * Valid payloads `{"input": {port: Message, …}}` on a subset of `ports` and
 * random port names, Messages from the must-accept column only; sometimes
 * with extra top-level members (ignored by 0.2.1), an empty or missing
 * `input`, and JSON whitespace between members.
 */
export function validPayload(ports: readonly string[], opts: PayloadOptions = {}): fc.Arbitrary<PayloadCase> {
  return payloadSpec(ports, opts).map((spec) => textCase(`valid:${specKind(spec)}`, renderSpec(spec)));
}

// ---------------------------------------------------------------------------
// Invalid UTF-8

/** Marks the splice point in rendered text: JSON writes U+0001 only escaped, so a raw one is unique. */
const SPLICE = '\u0001';

/** A JSON string literal for `s`, with SPLICE at code point `at` (or at its end). */
function splicedLiteral(s: string, at: number, atEnd: boolean): string {
  const cps = Array.from(s);
  const k = atEnd ? cps.length : at % (cps.length + 1);
  return `${JSON.stringify(cps.slice(0, k).join('')).slice(0, -1)}${SPLICE}${JSON.stringify(cps.slice(k).join('')).slice(1)}`;
}

function spliceBytes(text: string, seq: Uint8Array): Uint8Array {
  const i = text.indexOf(SPLICE);
  if (i < 0 || text.indexOf(SPLICE, i + 1) >= 0) throw new Error('payload generator: splice mark not unique');
  return concatBytes(utf8(text.slice(0, i)), seq, utf8(text.slice(i + 1)));
}

/**
 * Valid payloads made invalid UTF-8 by one bad sequence spliced inside a
 * string literal (a port name or a String Message's data; never inside a
 * number or a keyword), or by a multi-byte sequence cut short at the very end
 * of the bytes. A cut sequence inside a literal goes right before the closing
 * quote (an ASCII byte), where it is invalid.
 */
export function invalidUtf8Payload(ports: readonly string[], opts: PayloadOptions = {}): fc.Arbitrary<PayloadCase> {
  const str = opts.stringArb ?? defaultString();
  return fc
    .record({
      spec: payloadSpec(ports, opts, ['object']),
      seq: invalidUtf8Sequence(),
      target: fc.constantFrom('port-name', 'string-data', 'end'),
      key: opts.stringArb ?? portName(),
      s: str,
      at: fc.nat(),
      pos: fc.nat(),
      msg: opts.messageArb ?? validMessage(),
      typeFirst: fc.boolean(),
    })
    .map((c) => build({ ...c, target: c.target === 'end' && !c.seq.truncated ? 'port-name' : c.target }));

  function build(c: { spec: PayloadSpec; seq: InvalidUtf8; target: string; key: string; s: string; at: number; pos: number; msg: Json; typeFirst: boolean }): PayloadCase {
    const { spec, seq, target, key, s, at, pos, msg, typeFirst } = c;
    const kind = `invalid-utf8:${seq.kind}@${target}`;
    if (target === 'end') return bytesCase(kind, concatBytes(utf8(renderSpec(spec)), seq.bytes));
    const entries = spec.entries.filter((e) => e.key !== key);
    const index = pos % (entries.length + 1);
    if (target === 'port-name') {
      entries.splice(index, 0, { key, value: msg });
      const text = renderSpec({ ...spec, entries }, { portKeyText: (k, i) => (i === index ? splicedLiteral(k, at, seq.truncated) : undefined) });
      return bytesCase(kind, spliceBytes(text, seq.bytes));
    }
    const data = new RawJson(splicedLiteral(s, at, seq.truncated));
    entries.splice(index, 0, { key, value: typeFirst ? { type: 'String', data } : { data, type: 'String' } });
    return bytesCase(kind, spliceBytes(renderSpec({ ...spec, entries }), seq.bytes));
  }
}

// ---------------------------------------------------------------------------
// Invalid JSON

/** Keep an `input` member even where the spec has none, so a defect in its key shows. */
const forcedInput = (s: PayloadSpec): string | undefined => (s.input === 'missing' ? '{}' : undefined);
const bareKey = (k: string): string => k.replace(/[^A-Za-z0-9_$]/g, '_') || 'k';

/** Tokens that are not JSON values. */
const BAD_TOKENS: readonly string[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  'undefined',
  '0x10',
  '01',
  '+1',
  '.5',
  '1.',
  '1e',
  '-',
  '1e+',
  'tru',
  'nul',
  'True',
  "'str'",
  '"unterminated',
  '"bad \\x escape"',
  '"bad \\u12 escape"',
  '"raw \u0001 control"',
  '"raw \n newline"',
  '"\t"',
  '[1,]',
  '[,1]',
  '{"a"}',
  '{"a":}',
  '{"a" 1}',
  '{"a":1 "b":2}',
  '/* comment */ 1',
  '1 // comment',
  '[1 2]',
];

/**
 * UTF-8 payloads that are not JSON: empty; strict prefixes of valid payloads;
 * random text; trailing commas; single-quoted or unquoted keys; non-JSON
 * tokens where a value belongs; trailing garbage. Every case is checked to
 * make JSON.parse throw.
 */
export function invalidJsonPayload(ports: readonly string[], opts: PayloadOptions = {}): fc.Arbitrary<PayloadCase> {
  const spec = payloadSpec(ports, opts);
  const jsonish = fc.string({
    unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '0', '-', '.', 'e', 't', 'r', 'u', 'n', 'l', ' ', '\\', 'a', '\n'),
    minLength: 1,
    maxLength: 24,
  });
  const cases: fc.Arbitrary<PayloadCase>[] = [
    fc.constant(textCase('invalid-json:empty', '')),
    fc.tuple(spec, fc.nat()).map(([s, cut]) => {
      const text = renderSpec(s);
      let k = 1 + (cut % (text.length - 1));
      const c = text.charCodeAt(k - 1);
      if (c >= 0xd800 && c <= 0xdbff) k--; // never split a surrogate pair
      return textCase('invalid-json:truncation', text.slice(0, Math.max(1, k)));
    }),
    fc.oneof(unicodeString({ minLength: 1, maxLength: 24 }), jsonish).map((t) => textCase('invalid-json:random-text', t)),
    fc.tuple(spec, fc.constantFrom<'input' | 'top'>('input', 'top')).map(([s, where]) =>
      textCase(`invalid-json:trailing-comma-${where}`, renderSpec(where === 'input' ? { ...s, input: 'object' } : s, { trailingComma: where })),
    ),
    spec.map((s) => textCase('invalid-json:single-quotes', renderSpec(s, { topKeyText: (k) => `'${k}'`, inputText: forcedInput(s) }))),
    spec.map((s) => textCase('invalid-json:unquoted-keys', renderSpec(s, { topKeyText: bareKey, inputText: forcedInput(s) }))),
    fc
      .tuple(spec, fc.constantFrom(...BAD_TOKENS), fc.constantFrom('Integer', 'Float', 'String', 'Boolean', 'Bytes'), fc.nat(), fc.boolean())
      .map(([s, token, variant, pos, typeFirst]) => {
        const entries = [...s.entries];
        const data = new RawJson(token);
        const value = typeFirst ? { type: variant, data } : { data, type: variant };
        entries.splice(pos % (entries.length + 1), 0, { key: `bad-token-${pos}`, value });
        return textCase('invalid-json:bad-token', renderSpec({ ...s, input: 'object', entries }));
      }),
    fc
      .tuple(spec, fc.constantFrom(' x', '{}', ',', ']', '}', ' null', '\u0000'))
      .map(([s, tail]) => textCase('invalid-json:trailing-garbage', renderSpec(s) + tail)),
  ];
  return fc.oneof(...cases).filter((c) => !parsesAsJson(c.text ?? ''));
}

// ---------------------------------------------------------------------------
// Bad shapes (must-reject column only)

type JsonTypeName = 'null' | 'bool' | 'number' | 'string' | 'object' | 'array';

function jsonOfType(t: JsonTypeName): fc.Arbitrary<Json> {
  switch (t) {
    case 'null':
      return fc.constant(null);
    case 'bool':
      return fc.boolean();
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), i64());
    case 'string':
      return fc.oneof(unicodeString({ maxLength: 8 }), fc.constantFrom('5', 'true', 'null', '[]', '{"data":[]}'));
    case 'object':
      return fc.oneof(
        fc.dictionary(unicodeString({ maxLength: 6 }), smallJson(), { maxKeys: 3 }) as fc.Arbitrary<Json>,
        encodableValue() as fc.Arbitrary<Json>,
        validMessage(),
      );
    case 'array':
      return fc.oneof(fc.array(smallJson(), { maxLength: 4 }), u8Array(), fc.array(encodableValue(), { maxLength: 2 }));
  }
}

/** Any JSON value of one of the given types, with its type name. */
function oneOfTypes(types: readonly JsonTypeName[]): fc.Arbitrary<[JsonTypeName, Json]> {
  return fc.oneof(...types.map((t) => jsonOfType(t).map((v): [JsonTypeName, Json] => [t, v])));
}

const SCALARS: readonly JsonTypeName[] = ['null', 'bool', 'number', 'string'];
const NON_ARRAY: readonly JsonTypeName[] = ['null', 'bool', 'number', 'string', 'object'];

export interface BadMessage {
  kind: string;
  message: Json;
}

/** An envelope with the given data, or with no data member when `data` is undefined. */
function env(variant: Json, data: Json | undefined, typeFirst: boolean): Json {
  if (data === undefined) return { type: variant };
  return typeFirst ? { type: variant, data } : { data, type: variant };
}

const NEAR_MISS_VARIANTS: readonly string[] = [
  'flow',
  'FLOW',
  'boolean',
  'Bool',
  'Int',
  'int',
  'i64',
  'integer',
  'Float64',
  'f64',
  'string',
  'Str',
  'bytes',
  'Array ',
  ' Array',
  'Message',
  'Unit',
  'None',
  'Some',
  'StreamHandles',
  'Networkevent',
  'Remote',
  '',
];

/** Names that are not variants: near misses and random strings. */
function unknownVariantName(): fc.Arbitrary<string> {
  const variants: readonly string[] = MESSAGE_VARIANTS;
  return fc
    .oneof(
      fc.constantFrom(...NEAR_MISS_VARIANTS),
      fc.constantFrom(...variants).map((v) => v.toLowerCase()),
      fc.constantFrom(...variants).map((v) => `${v}\u0000`),
      unicodeString({ maxLength: 12 }),
    )
    .filter((s) => !variants.includes(s));
}

/** Data of a variant of the wrong type, exactly as ABI.md's must-reject column lists it. */
function wrongData(variant: string): fc.Arbitrary<{ what: string; data: Json | undefined }> {
  const typed = (types: readonly JsonTypeName[], prefix = 'data') => oneOfTypes(types).map(([t, data]) => ({ what: `${prefix}-${t}`, data }));
  const missing = fc.constant({ what: 'data-missing', data: undefined });
  switch (variant) {
    case 'Boolean':
      return fc.oneof(typed(['number', 'string', 'null', 'object', 'array']), missing);
    case 'String':
    case 'Error':
      return fc.oneof(typed(['number', 'bool', 'null', 'object', 'array']), missing);
    case 'Integer':
      return typed(['string', 'bool', 'null', 'object', 'array']);
    case 'Float':
      return typed(['string', 'bool', 'object', 'array']);
    case 'Bytes':
    case 'Encoded':
      return fc.oneof(
        typed(NON_ARRAY),
        fc
          .tuple(u8Array(), oneOfTypes(['string', 'bool', 'null', 'object', 'array']), fc.nat())
          .map(([bytes, [t, bad], pos]) => {
            const data: Json[] = [...bytes];
            data.splice(pos % (data.length + 1), 0, bad);
            return { what: `element-${t}`, data };
          }),
      );
    case 'Event':
    case 'Object':
    case 'Any':
      return fc.oneof(
        typed(SCALARS),
        fc
          .oneof(fc.constant({}), fc.tuple(fc.constantFrom('Data', 'bytes', 'value', 'data '), u8Array()).map(([k, v]) => jsonObject([[k, v]])))
          .map((data) => ({ what: 'struct-data-missing', data })),
        oneOfTypes(NON_ARRAY).map(([t, inner]) => ({ what: `struct-data-${t}`, data: { data: inner } })),
      );
    case 'Array':
      return typed(NON_ARRAY);
    case 'Optional':
      return typed(['string', 'bool', 'number']);
    case 'RemoteReference': {
      const members = ['network_id', 'actor_id', 'port'] as const;
      return fc.oneof(
        typed(SCALARS),
        fc
          .tuple(fc.constantFrom(...members), fc.option(oneOfTypes(['null', 'bool', 'number', 'object', 'array'])), unicodeString({ maxLength: 6 }))
          .map(([member, bad, s]) => {
            const obj = jsonObject(members.filter((m) => m !== member || bad !== null).map((m) => [m, m === member && bad !== null ? bad[1] : s]));
            return { what: bad === null ? `${member}-missing` : `${member}-${bad[0]}`, data: obj };
          }),
      );
    }
    case 'NetworkEvent': {
      const listed: readonly string[] = NETWORK_EVENT_TYPES;
      const unlisted = fc
        .oneof(
          fc.constantFrom('actorRegistered', 'ACTOR_REGISTERED', 'ActorRegistered ', 'Heartbeat', 'NetworkConnect', 'Connected', ''),
          unicodeString({ maxLength: 12 }),
        )
        .filter((s) => !listed.includes(s));
      return fc.oneof(
        typed(SCALARS),
        fc.tuple(unlisted, encodableValue(), fc.boolean()).map(([event_type, data, first]) => ({
          what: 'unlisted-event_type',
          data: first ? { event_type, data } : { data, event_type },
        })),
      );
    }
    default:
      throw new Error(`wrongData: no must-reject data for ${variant}`);
  }
}

/** Messages from ABI.md's must-reject column (envelope and data rows), with a kind naming the defect. */
export function badShapeMessage(): fc.Arbitrary<BadMessage> {
  const withData = fc.oneof(fc.constant(undefined), smallJson(), validMessage().map((m) => (m as { data?: Json }).data ?? null));
  const dataVariants = INPUT_VARIANTS.filter((v) => v !== 'Flow');
  const typeMissing = fc.oneof(
    fc.constant<Json>({}),
    smallJson().map((data): Json => ({ data })),
    fc
      .tuple(fc.constantFrom('Type', 'TYPE', 'tag', 'variant', 'type '), fc.constantFrom(...dataVariants))
      .map(([k, v]) => jsonObject([[k, v], ['data', true]])),
  );
  return fc.oneof(
    { weight: 1, arbitrary: oneOfTypes(SCALARS).map(([t, message]) => ({ kind: `message-${t}`, message })) },
    { weight: 1, arbitrary: typeMissing.map((message) => ({ kind: 'type-missing', message })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(oneOfTypes(['number', 'bool', 'null', 'object', 'array']), withData, fc.boolean())
        .map(([[t, tag], data, first]) => ({ kind: `type-${t}`, message: env(tag, data, first) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(unknownVariantName(), withData, fc.boolean())
        .map(([name, data, first]) => ({ kind: 'unknown-variant', message: env(name, data, first) })),
    },
    {
      weight: 6,
      arbitrary: fc.oneof(
        ...dataVariants.map((variant) =>
          fc.tuple(wrongData(variant), fc.boolean()).map(([{ what, data }, first]) => ({ kind: `${variant}-${what}`, message: env(variant, data, first) })),
        ),
      ),
    },
  );
}

/**
 * JSON payloads that must be rejected (-3), built only from ABI.md's
 * must-reject column: a top-level scalar or null; `input` null, an array or
 * a scalar; or one Message (among valid ones on other ports) that is a
 * scalar or null, has `type` missing, not a string or not a variant, or
 * `data` of a type the variant's row rejects.
 */
export function badShapePayload(ports: readonly string[], opts: PayloadOptions = {}): fc.Arbitrary<PayloadCase> {
  const spec = payloadSpec(ports, opts, ['object']);
  return fc.oneof(
    { weight: 1, arbitrary: oneOfTypes(SCALARS).map(([t, v]) => textCase(`bad-shape:top-level-${t}`, stringifyJson(v))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          spec,
          fc.oneof(
            oneOfTypes(SCALARS),
            fc.array(validMessage(), { maxLength: 3 }).map((a): [JsonTypeName, Json] => ['array', a]),
            jsonOfType('array').map((a): [JsonTypeName, Json] => ['array', a]),
          ),
        )
        .map(([s, [t, v]]) => textCase(`bad-shape:input-${t}`, renderSpec(s, { inputText: stringifyJson(v) }))),
    },
    {
      weight: 6,
      arbitrary: fc
        .tuple(spec, badShapeMessage(), fc.oneof(fc.constantFrom(...(ports.length > 0 ? ports : ['in'])), opts.stringArb ?? portName()), fc.nat())
        .map(([s, bad, key, pos]) => {
          const entries = s.entries.filter((e) => e.key !== key);
          entries.splice(pos % (entries.length + 1), 0, { key, value: bad.message });
          return textCase(`bad-shape:message:${bad.kind}`, renderSpec({ ...s, entries }));
        }),
    },
  );
}

// ---------------------------------------------------------------------------
// Large payloads (built from a seed, not through fast-check)

export const MiB = 1024 * 1024;

export interface LargePayloadSpec {
  /** Total payload size in bytes. */
  size: number;
  /** A String Message or a Bytes Message fills the payload. */
  kind: 'string' | 'bytes';
  seed: number;
  port: string;
}

/** xorshift32: a small deterministic generator. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const ASCII_FILL = utf8('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_()[]{}<>/|@#$%^&*+=~`\'');
const MULTI_BYTE_FILL = [utf8('\u00e9'), utf8('\u20ac'), utf8('\u{1F600}'), utf8('\\n'), utf8('\\"'), utf8('\\u0000')];

/** Bytes of one repeated block of content (the payload repeats it, then ends with a fresh tail). */
const LARGE_BLOCK = 64 * 1024;

/** Fill out[at, end) with String-literal content (valid UTF-8, JSON escapes included). */
function fillStringContent(out: Uint8Array, at: number, end: number, next: () => number): void {
  while (at < end) {
    const r = next();
    const seq = (r & 0xff) < 8 ? MULTI_BYTE_FILL[(r >>> 8) % MULTI_BYTE_FILL.length] : undefined;
    if (seq !== undefined && at + seq.length <= end) {
      out.set(seq, at);
      at += seq.length;
    } else {
      out[at++] = ASCII_FILL[(r >>> 16) % ASCII_FILL.length] ?? 0x61;
    }
  }
}

/** Write the decimal digits of n (0..255) at `at`; returns the new position. */
function writeU8(out: Uint8Array, at: number, n: number): number {
  if (n >= 100) out[at++] = 0x30 + Math.floor(n / 100);
  if (n >= 10) out[at++] = 0x30 + (Math.floor(n / 10) % 10);
  out[at++] = 0x30 + (n % 10);
  return at;
}

/** A number of exactly `digits` digits (1..3) in 0..255. */
function u8OfDigits(digits: number, r: number): number {
  return digits === 1 ? r % 10 : digits === 2 ? 10 + (r % 90) : 100 + (r % 156);
}

/** Fill out[at, end) exactly with `n,n,…,` (every element followed by a comma). */
function fillByteBlock(out: Uint8Array, at: number, end: number, next: () => number): void {
  while (at < end) {
    const left = end - at;
    const r = next();
    // pieces "n," are 2..4 bytes; never leave a single byte over
    const size = left <= 4 ? left : left === 5 ? 2 + (r & 1) : 2 + ((r >>> 8) % 3);
    at = writeU8(out, at, u8OfDigits(size - 1, r >>> 4));
    out[at++] = 0x2c;
  }
}

/** Fill out[at, end) exactly with `n,n,…,n` (no trailing comma); end - at >= 1. */
function fillByteTail(out: Uint8Array, at: number, end: number, next: () => number): void {
  const left = end - at;
  if (left <= 3) {
    writeU8(out, at, u8OfDigits(left, next()));
    return;
  }
  at = writeU8(out, at, next() % 10);
  // now end - at >= 3: ",n" pieces of 2..4 bytes
  while (at < end) {
    const rest = end - at;
    const r = next();
    out[at++] = 0x2c;
    const digits = rest <= 4 ? rest - 1 : rest >= 9 ? 1 + (r % 3) : 1; // 5..8 step by 2 bytes
    at = writeU8(out, at, u8OfDigits(digits, r >>> 4));
  }
}

/**
 * Build a valid payload of exactly `spec.size` bytes: `{"input":{port:
 * {"type":"String","data":"…"}}}` or the same with a Bytes Message, its
 * content derived from the seed (a 64 KiB block repeated, then a tail).
 */
export function buildLargePayload(spec: LargePayloadSpec): Uint8Array {
  const next = prng(spec.seed);
  const head = utf8(`{"input":{${JSON.stringify(spec.port)}:{"type":${spec.kind === 'string' ? '"String","data":"' : '"Bytes","data":['}`);
  const tail = utf8(spec.kind === 'string' ? '"}}}' : ']}}}');
  if (spec.size < head.length + tail.length + 1) throw new RangeError(`buildLargePayload: ${spec.size} bytes is too small`);
  const out = new Uint8Array(spec.size);
  out.set(head, 0);
  const end = spec.size - tail.length;
  out.set(tail, end);
  const start = head.length;
  const fillBlock = spec.kind === 'string' ? fillStringContent : fillByteBlock;
  let at = start;
  if (end - start > 2 * LARGE_BLOCK) {
    fillBlock(out, start, start + LARGE_BLOCK, next);
    at = start + LARGE_BLOCK;
    while (end - at > 2 * LARGE_BLOCK) {
      out.copyWithin(at, start, start + LARGE_BLOCK);
      at += LARGE_BLOCK;
    }
  }
  if (spec.kind === 'string') fillStringContent(out, at, end, next);
  else fillByteTail(out, at, end, next);
  return out;
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A PayloadCase whose bytes are built, and whose text is decoded, on first use. */
function largeCase(spec: LargePayloadSpec): PayloadCase & { spec: LargePayloadSpec } {
  const kind = `large:${spec.kind}:${spec.size}`;
  let bytes: Uint8Array | undefined;
  let text: string | undefined;
  const getBytes = (): Uint8Array => (bytes ??= buildLargePayload(spec));
  return {
    kind,
    spec,
    get bytes(): Uint8Array {
      return getBytes();
    },
    get text(): string {
      return (text ??= utf8Decoder.decode(getBytes()));
    },
    [fc.toStringMethod]: () => `${kind} (seed ${spec.seed}, port ${JSON.stringify(spec.port)})`,
  } as PayloadCase & { spec: LargePayloadSpec };
}

/**
 * Valid payloads of 1 MiB to 16 MiB (sizes biased to 1 MiB, 16 MiB and
 * between), filled by one String or Bytes Message on one of `ports`. Only
 * {size, kind, seed, port} go through fast-check; the bytes are built from
 * them on first access of `bytes`.
 */
export function largePayload(ports: readonly string[]): fc.Arbitrary<PayloadCase & { spec: LargePayloadSpec }> {
  const size = fc.oneof(
    fc.constantFrom(MiB, 16 * MiB),
    fc.constantFrom(MiB + 1, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB - 1),
    fc.integer({ min: MiB, max: 16 * MiB }),
  );
  return fc
    .record({
      size,
      kind: fc.constantFrom<'string' | 'bytes'>('string', 'bytes'),
      seed: fc.nat(),
      port: ports.length > 0 ? fc.constantFrom(...ports) : fc.constant('in'),
    })
    .map(largeCase);
}
