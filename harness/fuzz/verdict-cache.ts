// Memo of the oracles' pure parts for a fuzz worker: a tick's payload bytes
// and its Message-schema classification, and the form checks of a result
// (output Messages after status 0, error JSON after a non-zero status). A
// child copies most of its parent's ticks, and packs answer the same texts
// again and again: on the reference packs about three payload texts in four
// and nine results in ten come back (bench/fuzz-profile.ts), and
// classifying was half an execution's time. Each verdict is a pure function
// of the text, so a hit gives exactly what a fresh call gives, and the
// campaign stays deterministic. Each memo is bounded by the text it holds:
// when full it starts over (a campaign's recurring texts are back within a
// few batches).
import { checkErrorJson, checkOutputs, classifyPayloadBytes, classifyPayloadText, hasLoneSurrogate, type Classification } from '../abi/message-schema.ts';
import { payloadBytes, type Payload } from './input.ts';

/** Key characters one memo holds before it starts over (with its values, about 10 MB a memo). */
const BUDGET_CHARS = 4 << 20;
/** Texts longer than this are not kept: rare, and each would take a large share of the budget. */
const MAX_KEY_CHARS = 4096;

export interface ClassifiedPayload {
  /** Shared between the ticks that carry the same text: read-only (the host copies it into memory and compares against it). */
  bytes: Uint8Array;
  cls: Classification;
}

class TextMemo<V> {
  private readonly map = new Map<string, V>();
  private chars = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly compute: (key: string) => V) {}

  get(key: string): V {
    let v = this.map.get(key);
    if (v !== undefined) {
      this.hits++;
      return v;
    }
    this.misses++;
    // The verdicts read an error's message, never its stack: a parser's SyntaxError (most byte-mutated payloads
    // throw one) is made without capturing one.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      v = this.compute(key);
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (key.length <= MAX_KEY_CHARS) {
      if (this.chars + key.length > BUDGET_CHARS) {
        this.map.clear();
        this.chars = 0;
      }
      this.map.set(key, v);
      this.chars += key.length;
    }
    return v;
  }

  clear(): void {
    this.map.clear();
    this.chars = 0;
    this.hits = 0;
    this.misses = 0;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What the output oracle says of a status-0 result's bytes. */
export type OutputsVerdict = { utf8: false } | { utf8: true; problem: string | null };

function outputsVerdict(bytes: Uint8Array): OutputsVerdict {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return { utf8: false };
  }
  return { utf8: true, problem: checkOutputs(text) };
}

const texts = new TextMemo((text: string): ClassifiedPayload => {
  const bytes = payloadBytes(text);
  // Well-formed UTF-16 is exactly what its UTF-8 bytes decode to: classified as text, without the strict decode (the
  // slowest step of a miss on Node 20). A lone surrogate is encoded as U+FFFD: then the bytes decide.
  return { bytes, cls: hasLoneSurrogate(text) ? classifyPayloadBytes(bytes) : classifyPayloadText(text) };
});
/** `{hex}` payloads (byte-level mutations) apart from texts: a text may spell any hex string. */
const hexes = new TextMemo((hex: string): ClassifiedPayload => {
  const bytes = payloadBytes({ hex });
  return { bytes, cls: classifyPayloadBytes(bytes) };
});
/** Results are keyed by their bytes read as Latin-1 (one character per byte: a key for any bytes, UTF-8 or not, and no strict decode on a hit). */
const outputs = new TextMemo((latin1: string) => outputsVerdict(Buffer.from(latin1, 'latin1')));
/** `checkErrorJson` gives null for good error JSON: kept as '' so that a miss and a null are told apart. */
const errors = new TextMemo((latin1: string) => checkErrorJson(Buffer.from(latin1, 'latin1')) ?? '');

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** A payload's bytes and classification, remembered by its text or hex. */
export function classified(p: Payload): ClassifiedPayload {
  return typeof p === 'string' ? texts.get(p) : hexes.get(p.hex);
}

/** The output oracle's verdict on a status-0 result (strict UTF-8, then `checkOutputs`), remembered by the bytes. */
export function outputsOf(result: Uint8Array): OutputsVerdict {
  return outputs.get(latin1(result));
}

/** `checkErrorJson(result)`, remembered by the bytes. */
export function errorJsonOf(result: Uint8Array): string | null {
  return errors.get(latin1(result)) || null;
}

/** Hits and misses so far, by memo (the benchmark's profile). */
export function memoStats(): Record<'texts' | 'hexes' | 'outputs' | 'errors', { hits: number; misses: number }> {
  const of = (m: TextMemo<unknown>) => ({ hits: m.hits, misses: m.misses });
  return { texts: of(texts), hexes: of(hexes), outputs: of(outputs), errors: of(errors) };
}

/** Forgets everything (a cold start: tests, the profile). */
export function clearMemos(): void {
  for (const m of [texts, hexes, outputs, errors]) m.clear();
}
