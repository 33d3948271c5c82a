// packcheck/arbitraries: the generators the harness uses, for pack authors'
// own properties (fast-check 4).

export { RawJson, jsonObject, stringifyJson, utf8, type Json } from './json-text.ts';
export {
  LONE_SURROGATES,
  UTF8_EDGE_CHARS,
  charOfUtf8Length,
  invalidUtf8Sequence,
  scalarValueChar,
  unicodeString,
  utf8EdgeString,
  type InvalidUtf8,
  type Utf8EdgeOptions,
} from './utf8.ts';
export {
  dataOf,
  defaultString,
  encodableValue,
  envelope,
  finiteFloat,
  i64,
  messageOf,
  smallJsonText,
  u8Array,
  validMessage,
  type EncodableJson,
  type MessageOptions,
} from './message.ts';
export {
  MiB,
  badShapeMessage,
  badShapePayload,
  buildLargePayload,
  invalidJsonPayload,
  invalidUtf8Payload,
  largePayload,
  portName,
  validPayload,
  type BadMessage,
  type LargePayloadSpec,
  type PayloadCase,
  type PayloadOptions,
} from './payload.ts';
export {
  INPUT_VARIANTS,
  MESSAGE_SCHEMA,
  MESSAGE_VARIANTS,
  NETWORK_EVENT_TYPES,
  type InputVariant,
  type Variant,
} from '../../harness/abi/message-schema.ts';
