// The Message schema of the wasm ABI: the one module that knows what a
// `reflow_actor::message::Message` looks like on the wire (ABI.md, "Messages
// on the wire"), and which forms a pack must accept, must reject, or may
// treat either way ("left open").
//
// The schema is versioned data (MESSAGE_SCHEMA); the classifiers take it as an
// optional last argument so a profile can switch to another revision.

import { isUtf8 } from 'node:buffer';
import { isLosslessNumber, parse as parseLosslessJson } from 'lossless-json';

// ---------------------------------------------------------------------------
// The schema

/** How a variant's `data` member is shaped. */
export type DataKind =
  | 'none' // unit variant: no `data`
  | 'bool'
  | 'i64'
  | 'f64'
  | 'string'
  | 'u8-array' // [u8] as a JSON array of integers 0..255
  | 'encodable' // EncodableValue `{"data": [u8, …]}`
  | 'encodable-array' // [EncodableValue]
  | 'optional-encodable' // EncodableValue or null
  | 'remote-reference' // {"network_id", "actor_id", "port"}: strings
  | 'network-event' // {"event_type": listed, "data": EncodableValue}
  | 'opaque'; // runtime-local (StreamHandle)

export const MESSAGE_VARIANTS = [
  'Flow',
  'Event',
  'Boolean',
  'Integer',
  'Float',
  'String',
  'Object',
  'Array',
  'Bytes',
  'StreamHandle',
  'Encoded',
  'Optional',
  'Any',
  'Error',
  'RemoteReference',
  'NetworkEvent',
] as const;

export type Variant = (typeof MESSAGE_VARIANTS)[number];

/** Variants a generator of valid input Messages draws from (no pack is required to accept a StreamHandle). */
export type InputVariant = Exclude<Variant, 'StreamHandle'>;
export const INPUT_VARIANTS: readonly InputVariant[] = MESSAGE_VARIANTS.filter(
  (v): v is InputVariant => v !== 'StreamHandle',
);

export const NETWORK_EVENT_TYPES = [
  'ActorRegistered',
  'ActorUnregistered',
  'NetworkConnected',
  'NetworkDisconnected',
  'HeartbeatMissed',
] as const;

export type NetworkEventType = (typeof NETWORK_EVENT_TYPES)[number];

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

export interface MessageSchema {
  readonly version: string;
  /** Variant names, in declaration order. */
  readonly variants: readonly string[];
  /** The shape of each variant's `data`. */
  readonly dataKinds: Readonly<Record<string, DataKind>>;
  /** Envelope member names (serde adjacent tagging). */
  readonly tag: string;
  readonly content: string;
  readonly networkEventTypes: readonly string[];
  readonly remoteReferenceMembers: readonly string[];
  readonly i64: { readonly min: bigint; readonly max: bigint };
}

export const MESSAGE_SCHEMA = {
  version: 'reflow-message/0.2.1',
  variants: MESSAGE_VARIANTS,
  dataKinds: {
    Flow: 'none',
    Event: 'encodable',
    Boolean: 'bool',
    Integer: 'i64',
    Float: 'f64',
    String: 'string',
    Object: 'encodable',
    Array: 'encodable-array',
    Bytes: 'u8-array',
    StreamHandle: 'opaque',
    Encoded: 'u8-array',
    Optional: 'optional-encodable',
    Any: 'encodable',
    Error: 'string',
    RemoteReference: 'remote-reference',
    NetworkEvent: 'network-event',
  } satisfies Record<Variant, DataKind>,
  tag: 'type',
  content: 'data',
  networkEventTypes: NETWORK_EVENT_TYPES,
  remoteReferenceMembers: ['network_id', 'actor_id', 'port'],
  i64: { min: I64_MIN, max: I64_MAX },
} as const satisfies MessageSchema;

// ---------------------------------------------------------------------------
// Lossless parsing (numbers keep their text; duplicate members are recorded)

const duplicateMembers = new WeakMap<object, ReadonlySet<string>>();

/**
 * Parse JSON text with lossless-json: every number is a LosslessNumber holding
 * its exact text. Throws a SyntaxError on text that is not JSON.
 *
 * Duplicate members (left open by ABI.md) do not throw: the last one wins, as
 * in serde_json's maps, and every object that had a duplicate member is
 * recorded (see `duplicateMembersOf`), so the classifiers can call it open.
 * lossless-json reports only duplicates with different values, so the
 * duplicates are found by a separate scan of the text.
 */
export function parseLossless(text: string): unknown {
  const value = parseLosslessJson(text, null, {
    onDuplicateKey: ({ newValue }) => newValue,
  });
  const dups = scanDuplicates(text);
  if (dups !== undefined) attachDuplicates(value, dups);
  return value;
}

/** Member names that occurred more than once in `obj`'s text, when `obj` came from parseLossless. */
export function duplicateMembersOf(obj: object): ReadonlySet<string> | undefined {
  return duplicateMembers.get(obj);
}

interface DupNode {
  dups?: Set<string>;
  children: Map<string | number, DupNode>;
}

/**
 * Walk text already known to be JSON and build a tree of the containers that
 * hold (or contain) an object with a repeated member name. Returns undefined
 * when there are none (the common case).
 */
function scanDuplicates(text: string): DupNode | undefined {
  let i = 0;
  const n = text.length;

  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  // At an opening quote; moves past the closing quote; returns the raw literal.
  const skipString = (): string => {
    const start = i;
    let j = i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) throw new SyntaxError('unterminated string');
      let b = q - 1;
      while (text.charCodeAt(b) === 0x5c) b--;
      if ((q - 1 - b) % 2 === 0) {
        i = q + 1;
        return text.slice(start, i);
      }
      j = q + 1;
    }
  };
  const decodeKey = (literal: string): string =>
    literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);

  // Returns a node only when the value is a container whose subtree has a duplicate.
  const value = (): DupNode | undefined => {
    skipWs();
    const c = text.charCodeAt(i);
    if (c === 0x7b) return object();
    if (c === 0x5b) return array();
    if (c === 0x22) {
      skipString();
      return undefined;
    }
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      i++;
    }
    return undefined;
  };
  const object = (): DupNode | undefined => {
    i++; // {
    const seen = new Set<string>();
    const node: DupNode = { children: new Map() };
    skipWs();
    if (text.charCodeAt(i) === 0x7d) {
      i++;
      return undefined;
    }
    for (;;) {
      skipWs();
      const key = decodeKey(skipString());
      skipWs();
      i++; // :
      const child = value();
      if (seen.has(key)) (node.dups ??= new Set()).add(key);
      seen.add(key);
      if (child !== undefined) node.children.set(key, child);
      else node.children.delete(key); // the last occurrence wins
      skipWs();
      const c = text.charCodeAt(i++);
      if (c !== 0x2c) break; // }
    }
    return node.dups !== undefined || node.children.size > 0 ? node : undefined;
  };
  const array = (): DupNode | undefined => {
    i++; // [
    const node: DupNode = { children: new Map() };
    skipWs();
    if (text.charCodeAt(i) === 0x5d) {
      i++;
      return undefined;
    }
    for (let index = 0; ; index++) {
      const child = value();
      if (child !== undefined) node.children.set(index, child);
      skipWs();
      const c = text.charCodeAt(i++);
      if (c !== 0x2c) break; // ]
    }
    return node.children.size > 0 ? node : undefined;
  };

  return value();
}

function attachDuplicates(value: unknown, node: DupNode): void {
  if (typeof value !== 'object' || value === null || isLosslessNumber(value)) return;
  if (node.dups !== undefined && !Array.isArray(value)) duplicateMembers.set(value, node.dups);
  for (const [key, child] of node.children) {
    const sub = Array.isArray(value)
      ? typeof key === 'number'
        ? value[key]
        : undefined
      : Object.hasOwn(value, key)
        ? (value as Record<string, unknown>)[key as string]
        : undefined;
    attachDuplicates(sub, child);
  }
}

// ---------------------------------------------------------------------------
// Classification

export type Verdict = 'valid' | 'invalid' | 'open';
export interface Classification {
  verdict: Verdict;
  reason?: string;
}
export type Mode = 'input' | 'output';

const VALID: Classification = { verdict: 'valid' };
const invalid = (reason: string): Classification => ({ verdict: 'invalid', reason });
const open = (reason: string): Classification => ({ verdict: 'open', reason });

/** The first invalid result, else the first open one, else valid. */
function combine(results: Iterable<Classification>): Classification {
  let firstOpen: Classification | undefined;
  for (const r of results) {
    if (r.verdict === 'invalid') return r;
    if (r.verdict === 'open' && firstOpen === undefined) firstOpen = r;
  }
  return firstOpen ?? VALID;
}

/** A verdict that may at most be open (`invalid` and `valid` become `open`). */
function capOpen(r: Classification, reason: string): Classification {
  return r.verdict === 'open' ? r : open(r.reason !== undefined ? `${reason} (and ${r.reason})` : reason);
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

/** The exact text of a JSON number (LosslessNumber, or a JS number / bigint when given one). */
function numberText(v: unknown): string | undefined {
  if (isLosslessNumber(v)) return v.value;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'bigint') return v.toString();
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function deepHasLoneSurrogate(v: unknown): boolean {
  if (typeof v === 'string') return hasLoneSurrogate(v);
  if (Array.isArray(v)) return v.some(deepHasLoneSurrogate);
  if (isObject(v)) return Object.entries(v).some(([k, x]) => hasLoneSurrogate(k) || deepHasLoneSurrogate(x));
  return false;
}

/**
 * A member repeated anywhere inside `v`. Parsing keeps the last occurrence, so
 * what an earlier one held (an escaped lone surrogate, say, which serde_json
 * rejects even in a value it ignores) is out of sight: such a value is open.
 */
function deepHasDuplicates(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(deepHasDuplicates);
  if (isObject(v)) return (duplicateMembersOf(v)?.size ?? 0) > 0 || Object.values(v).some(deepHasDuplicates);
  return false;
}

/** A short description of a JSON value for reasons: `string "5"`, `number 1.5`, `an array`, … */
export function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing (member missing)';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `boolean ${v}`;
  const num = numberText(v);
  if (num !== undefined) return `number ${truncate(num, 40)}`;
  if (typeof v === 'string') return `string ${truncate(JSON.stringify(v), 60)}`;
  if (Array.isArray(v)) return `an array of ${v.length} element${v.length === 1 ? '' : 's'}`;
  if (isObject(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 ? 'an empty object' : `an object with members ${truncate(keys.map((k) => JSON.stringify(k)).join(', '), 60)}`;
  }
  return typeof v;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** The JSON type of a value from parseLossless: missing, null, bool, number, string, array or object. */
export function jsonTypeOf(v: unknown): 'missing' | 'null' | 'bool' | 'number' | 'string' | 'array' | 'object' {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (numberText(v) !== undefined) return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/**
 * Checks on the members of a struct-like object other than its value checks:
 * a repeated required member makes the whole object open (which value a pack
 * sees is up to its parser); extra members are tolerated, but an extra member
 * that repeats, or that carries an escaped lone surrogate (in its name or
 * anywhere in its value) or a repeated member anywhere inside, is open.
 */
function memberChecks(obj: JsonObject, required: readonly string[], label: string): { cap?: string; extras: Classification } {
  const dups = duplicateMembersOf(obj);
  const requiredDup = dups !== undefined ? required.find((k) => dups.has(k)) : undefined;
  const extras: Classification[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (required.includes(k)) continue;
    if (dups?.has(k)) extras.push(open(`${label}: member ${JSON.stringify(k)} repeats (duplicate members are left open)`));
    else if (hasLoneSurrogate(k) || deepHasLoneSurrogate(v))
      extras.push(open(`${label}: extra member ${JSON.stringify(k)} carries an escaped lone surrogate (left open)`));
    else if (deepHasDuplicates(v)) extras.push(open(`${label}: extra member ${JSON.stringify(k)} has a repeated member inside (duplicate members are left open)`));
  }
  return {
    cap: requiredDup !== undefined ? `${label}: member ${JSON.stringify(requiredDup)} repeats (duplicate members are left open)` : undefined,
    extras: combine(extras),
  };
}

function withMembers(obj: JsonObject, required: readonly string[], label: string, body: Classification): Classification {
  const m = memberChecks(obj, required, label);
  const r = combine([body, m.extras]);
  return m.cap !== undefined ? capOpen(r, m.cap) : r;
}

function checkString(v: unknown, label: string): Classification {
  if (typeof v !== 'string') return invalid(`${label} must be a string, got ${describeJson(v)}`);
  if (hasLoneSurrogate(v)) return open(`${label} holds an escaped lone surrogate (left open: serde_json rejects it)`);
  return VALID;
}

const UNSIGNED_INTEGER_TEXT = /^(?:0|[1-9][0-9]*)$/;
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/** [u8]: an array of integers 0..255; a non-number element is invalid, other numbers open. */
function checkU8Array(v: unknown, label: string): Classification {
  if (!Array.isArray(v)) return invalid(`${label} must be an array of integers 0..255, got ${describeJson(v)}`);
  let firstOpen: Classification | undefined;
  for (let i = 0; i < v.length; i++) {
    const text = numberText(v[i]);
    if (text === undefined) return invalid(`${label}[${i}] must be a number (an integer 0..255), got ${describeJson(v[i])}`);
    if (firstOpen === undefined && !(UNSIGNED_INTEGER_TEXT.test(text) && text.length <= 3 && Number(text) <= 255))
      firstOpen = open(`${label}[${i}] is ${text}, not an integer 0..255 (left open)`);
  }
  return firstOpen ?? VALID;
}

// ignoreBOM: a leading U+FEFF stays in the text (serde_json does not skip it either).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isJsonText(bytes: Uint8Array): boolean {
  try {
    JSON.parse(strictUtf8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** EncodableValue `{"data": [u8, …]}` holding the UTF-8 bytes of a JSON text. */
function checkEncodable(v: unknown, label: string): Classification {
  if (Array.isArray(v)) return open(`${label} is an array in place of the EncodableValue struct (left open: serde reads [[…]] as {"data":[…]})`);
  if (!isObject(v)) return invalid(`${label} must be an EncodableValue {"data": [u8, …]}, got ${describeJson(v)}`);
  const inner = v['data'];
  let body: Classification;
  if (!Object.hasOwn(v, 'data')) body = invalid(`${label} must be an EncodableValue {"data": [u8, …]}, but its "data" member is missing`);
  else {
    body = checkU8Array(inner, `${label}.data`);
    if (body.verdict === 'valid') {
      const bytes = Uint8Array.from((inner as unknown[]).map((x) => Number(numberText(x))));
      if (!isJsonText(bytes)) body = open(`${label}.data bytes are not the UTF-8 text of a JSON value (left open)`);
    }
  }
  return withMembers(v, ['data'], label, body);
}

function checkData(kind: DataKind, variant: string, data: unknown, present: boolean, mode: Mode, schema: MessageSchema): Classification {
  const label = `${variant} data`;
  if (kind === 'none') return present ? open(`${variant} has a "data" member (${describeJson(data)}); left open`) : VALID;
  if (kind === 'opaque') {
    if (mode === 'output' && isObject(data)) return VALID;
    return open(`${variant} is runtime-local (no pack is required to accept or reject one)`);
  }
  if (kind === 'optional-encodable') {
    if (!present) return open(`${variant} without "data" (left open: serde may read it as None)`);
    if (data === null) return VALID;
    if (Array.isArray(data)) return open(`${label} is an array (left open)`);
    if (isObject(data)) return checkEncodable(data, label);
    return invalid(`${label} must be null or an EncodableValue {"data": [u8, …]}, got ${describeJson(data)}`);
  }
  if (!present) return invalid(`${variant} needs a "data" member, but it is missing`);
  switch (kind) {
    case 'bool':
      return typeof data === 'boolean' ? VALID : invalid(`${label} must be a boolean, got ${describeJson(data)}`);
    case 'string':
      return checkString(data, label);
    case 'i64': {
      const text = numberText(data);
      if (text === undefined) return invalid(`${label} must be an integer in the i64 range, got ${describeJson(data)}`);
      if (text === '-0') return open(`${label} is -0 (left open: serde_json reads it as a float)`);
      if (!INTEGER_TEXT.test(text)) return open(`${label} is ${truncate(text, 40)}, a number with a fraction or exponent (left open)`);
      const big = BigInt(text);
      if (big < schema.i64.min || big > schema.i64.max) return open(`${label} ${truncate(text, 40)} is outside the i64 range (left open)`);
      return VALID;
    }
    case 'f64': {
      if (data === null)
        return mode === 'output' ? VALID : open(`${label} is null (left open in input: serde_json writes NaN and infinities as null)`);
      const text = numberText(data);
      if (text === undefined) return invalid(`${label} must be a finite number, got ${describeJson(data)}`);
      if (!Number.isFinite(Number(text))) return open(`${label} ${truncate(text, 40)} is beyond the f64 range (left open)`);
      return VALID;
    }
    case 'u8-array':
      return checkU8Array(data, label);
    case 'encodable':
      return checkEncodable(data, label);
    case 'encodable-array':
      if (!Array.isArray(data)) return invalid(`${label} must be an array of EncodableValue, got ${describeJson(data)}`);
      return combine(data.map((e, i) => checkEncodable(e, `${label}[${i}]`)));
    case 'remote-reference': {
      if (Array.isArray(data)) return open(`${label} is an array (left open)`);
      if (!isObject(data)) {
        const members = schema.remoteReferenceMembers.map((m) => `"${m}"`).join(', ');
        return invalid(`${label} must be an object {${members}} of strings, got ${describeJson(data)}`);
      }
      const body = combine(
        schema.remoteReferenceMembers.map((m) =>
          Object.hasOwn(data, m) ? checkString(data[m], `${label}.${m}`) : invalid(`${label} lacks the string member "${m}"`),
        ),
      );
      return withMembers(data, schema.remoteReferenceMembers, label, body);
    }
    case 'network-event': {
      if (Array.isArray(data)) return open(`${label} is an array (left open)`);
      if (!isObject(data)) return invalid(`${label} must be an object {"event_type", "data"}, got ${describeJson(data)}`);
      const et = data['event_type'];
      let etResult: Classification;
      if (!Object.hasOwn(data, 'event_type')) etResult = open(`${label} lacks "event_type" (not listed as must-reject; left open)`);
      else if (typeof et === 'string')
        etResult = schema.networkEventTypes.includes(et)
          ? VALID
          : invalid(`${label}.event_type must be one of ${schema.networkEventTypes.join(', ')}, got ${describeJson(et)}`);
      else if (isObject(et)) etResult = open(`${label}.event_type is an object (left open: serde_json also reads an enum from {"Variant": null})`);
      else etResult = invalid(`${label}.event_type must be one of ${schema.networkEventTypes.join(', ')}, got ${describeJson(et)}`);
      const dataResult = Object.hasOwn(data, 'data')
        ? checkEncodable(data['data'], `${label}.data`)
        : open(`${label} lacks "data" (not listed as must-reject; left open)`);
      return withMembers(data, ['event_type', 'data'], label, combine([etResult, dataResult]));
    }
  }
}

/**
 * Classify one Message (a value from parseLossless) against ABI.md's table:
 * 'valid' = a must-accept form, 'invalid' = a must-reject form (with a
 * reason), 'open' = left open. In 'output' mode a Float with null and a
 * StreamHandle with any object are valid too.
 *
 * Combining: a must-reject part makes the Message invalid even if another
 * part is open; a repeated `type` or `data` member makes it open whatever
 * else it holds; extra members are tolerated.
 */
export function classifyMessage(value: unknown, mode: Mode, schema: MessageSchema = MESSAGE_SCHEMA): Classification {
  if (Array.isArray(value)) return open('message is an array (left open: serde reads ["Variant", data] as a Message)');
  if (!isObject(value)) return invalid(`message must be an object {"${schema.tag}": …}, got ${describeJson(value)}`);
  const tag = value[schema.tag];
  let body: Classification;
  if (!Object.hasOwn(value, schema.tag)) body = invalid(`message has no "${schema.tag}" member`);
  else if (typeof tag !== 'string') body = invalid(`message "${schema.tag}" must be a string naming a variant, got ${describeJson(tag)}`);
  else if (!schema.variants.includes(tag) || !Object.hasOwn(schema.dataKinds, tag))
    body = invalid(`unknown message variant ${truncate(JSON.stringify(tag), 60)}`);
  else {
    const kind = schema.dataKinds[tag] as DataKind;
    body = checkData(kind, tag, value[schema.content], Object.hasOwn(value, schema.content), mode, schema);
  }
  return withMembers(value, [schema.tag, schema.content], 'message', body);
}

/**
 * Classify a whole run payload (a value from parseLossless): an object whose
 * `input` is an object of Messages, or missing; other top-level members are
 * ignored.
 */
export function classifyPayload(value: unknown, schema: MessageSchema = MESSAGE_SCHEMA): Classification {
  if (Array.isArray(value)) return open('payload is an array (left open: serde may read [] as a payload with no inputs)');
  if (!isObject(value)) return invalid(`payload must be a JSON object, got ${describeJson(value)}`);
  const top = memberChecks(value, ['input'], 'payload');
  let body: Classification;
  if (!Object.hasOwn(value, 'input')) body = VALID;
  else {
    const input = value['input'];
    if (!isObject(input)) body = invalid(`payload "input" must be an object of Messages, got ${describeJson(input)}`);
    else {
      const dups = duplicateMembersOf(input);
      body = combine(
        Object.entries(input).map(([port, msg]) => {
          const name = `input ${truncate(JSON.stringify(port), 60)}`;
          let r = classifyMessage(msg, 'input', schema);
          if (r.reason !== undefined) r = { verdict: r.verdict, reason: `${name}: ${r.reason}` };
          if (hasLoneSurrogate(port)) r = combine([r, open(`${name}: port name holds an escaped lone surrogate (left open)`)]);
          if (dups?.has(port)) r = capOpen(r, `${name}: port repeats (duplicate members are left open)`);
          return r;
        }),
      );
    }
  }
  const r = combine([body, top.extras]);
  return top.cap !== undefined ? capOpen(r, top.cap) : r;
}

/**
 * Classify the bytes of a payload: not UTF-8 or not JSON is invalid (the pack
 * must answer -2 / -3); otherwise as classifyPayload.
 */
export function classifyPayloadBytes(bytes: Uint8Array, schema: MessageSchema = MESSAGE_SCHEMA): Classification {
  // The same verdict as the fatal decoder's exception, without its cost (the fuzzer's byte mutations are mostly not UTF-8).
  if (!isUtf8(bytes)) return invalid('payload is not valid UTF-8');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return invalid('payload is not valid UTF-8');
  }
  return classifyPayloadText(text, schema);
}

/**
 * classifyPayloadBytes after its UTF-8 decoding: `text` must be what the
 * bytes decode to (a caller holding the text, such as the fuzzer's memo of
 * payload texts, skips the encode and the strict decode).
 */
export function classifyPayloadText(text: string, schema: MessageSchema = MESSAGE_SCHEMA): Classification {
  if (text.length === 0) return invalid('payload is empty');
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch (e) {
    return invalid(`payload is not JSON: ${(e as Error).message}`);
  }
  return classifyPayload(value, schema);
}

/**
 * For a status-0 result: null when `text` is a JSON object whose every value
 * is a Message that is not invalid in output mode (valid forms, Float null,
 * StreamHandle objects and, tolerated, the forms left open); otherwise the
 * reason, naming the port.
 */
export function checkOutputs(text: string, schema: MessageSchema = MESSAGE_SCHEMA): string | null {
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch (e) {
    return `outputs are not valid JSON: ${(e as Error).message}`;
  }
  if (!isObject(value)) return `outputs must be a JSON object {"<port>": <Message>, …}, got ${describeJson(value)}`;
  for (const [port, msg] of Object.entries(value)) {
    const r = classifyMessage(msg, 'output', schema);
    if (r.verdict === 'invalid') return `output port ${truncate(JSON.stringify(port), 60)}: ${r.reason ?? 'not a valid Message'}`;
  }
  return null;
}

/**
 * Error JSON (PROPERTIES.md): null iff the bytes are valid UTF-8, parse as
 * JSON, and form an object with a string member `error`; otherwise the reason.
 */
export function checkErrorJson(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return 'not valid UTF-8';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `not valid JSON: ${(e as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `not a JSON object: got ${describeJson(value)}`;
  if (!Object.hasOwn(value, 'error')) return 'the object has no "error" member';
  const err = (value as Record<string, unknown>)['error'];
  if (typeof err !== 'string') return `"error" must be a string, got ${describeJson(err)}`;
  return null;
}
