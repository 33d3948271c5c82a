// The fuzz worker's shortcuts give exactly what the long way gives: the
// memo of payload classifications and result checks (verdict-cache.ts),
// the UTF-8 pre-check of classifyPayloadBytes, and the coverage drain that
// skips functions never entered and leaves the counters of an input its
// instance calls old unread (instrument.ts, coverage.ts). The drain is
// compared with a recording made by the drain it replaced (commit 441be3b:
// every counter scanned, every CmpLog site read one by one).
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkErrorJson, checkOutputs, classifyPayloadBytes, type Classification } from '../harness/abi/message-schema.ts';
import { badShapePayload, invalidJsonPayload, invalidUtf8Payload, validPayload } from '../properties/arbitraries/payload.ts';
import { clearMemos, classified, errorJsonOf, memoStats, outputsOf } from '../harness/fuzz/verdict-cache.ts';
import { payloadBytes, payloadOf, type FuzzInput, type Payload } from '../harness/fuzz/input.ts';
import { Mutator, prng } from '../harness/fuzz/mutate.ts';
import { TokenBag } from '../harness/fuzz/dictionary.ts';
import { instrumentPack } from '../harness/fuzz/instrument.ts';
import { CoverageReader } from '../harness/fuzz/coverage.ts';
import { PersistentJudge } from '../harness/fuzz/judge.ts';
import { CallGuard } from '../harness/kernel/call-guard.ts';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';

const PORTS = ['in'];

/** Payloads of every kind the fuzzer sends: generated valid, invalid-UTF-8, invalid-JSON and bad-shape cases, their byte-level and tree mutations, and text the encoder must repair (a lone surrogate). */
function payloadSet(): Payload[] {
  const cases = [validPayload(PORTS), invalidUtf8Payload(PORTS), invalidJsonPayload(PORTS), badShapePayload(PORTS)].flatMap((arb, k) => fc.sample(arb, { seed: 11 + k, numRuns: 120 }));
  const out: Payload[] = cases.map((c) => payloadOf(c.bytes));
  const rand = prng(3);
  const m = new Mutator(rand, { templates: [{ name: 't', factoryId: 0, inports: PORTS, outports: [] }], messages: ['{"type":"Integer","data":3}', '{"type":"String","data":"x"}'], strings: new TokenBag(8), ints: new TokenBag(8), cmpStrings: new TokenBag(8), cmpInts: new TokenBag(8) });
  const inputs: FuzzInput[] = [{ template: 't', ticks: out.slice(0, 20) }];
  for (let i = 0; i < 300; i++) inputs.push(m.mutate(inputs[Math.floor(rand() * inputs.length)]!, inputs));
  out.push(...inputs.flatMap((i) => i.ticks));
  out.push('', '\ufeff{"input":{}}', '{"input":{"\ud800":{"type":"Flow"}}}', '{"input":{"in":{"type":"String","data":"\udc00"}}}', { hex: '' }, { hex: 'c0af' }, { hex: '7b7d' });
  return out;
}

const fresh = (p: Payload): { bytes: Uint8Array; cls: Classification } => {
  const bytes = payloadBytes(p);
  return { bytes, cls: classifyPayloadBytes(bytes) };
};

describe('the verdict memo', () => {
  it('gives, for each payload, the bytes and classification a fresh classifyPayloadBytes gives, on the miss and on the hit', () => {
    clearMemos();
    const payloads = payloadSet();
    const verdicts = new Set<string>();
    for (const p of payloads) {
      const want = fresh(p);
      expect(classified(p)).toEqual(want);
      expect(classified(p)).toEqual(want);
      verdicts.add(want.cls.verdict);
    }
    // Not a vacuous set: every verdict occurs, and both memos served hits.
    expect([...verdicts].sort()).toEqual(['invalid', 'open', 'valid']);
    const s = memoStats();
    expect(s.texts.hits).toBeGreaterThanOrEqual(payloads.filter((p) => typeof p === 'string').length);
    expect(s.hexes.hits).toBeGreaterThan(0);
  });

  it('gives, for each result, what the strict decode with checkOutputs and what checkErrorJson give', () => {
    clearMemos();
    const texts = ['{"out":{"type":"Integer","data":1}}', '{"out":{"type":"Nope"}}', '{"out":{"type":"Float","data":null}}', '[]', '{"error":"bad"}', '{"error":3}', 'nope'];
    const results = [...texts.map((t) => new TextEncoder().encode(t)), Uint8Array.from([0x7b, 0xc0, 0xaf, 0x7d]), new Uint8Array(0), ...payloadSet().map(payloadBytes)];
    const problems = new Set<string>();
    for (const r of results) {
      let text: string | null;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(r);
      } catch {
        text = null;
      }
      const want = text === null ? { utf8: false } : { utf8: true, problem: checkOutputs(text) };
      for (let twice = 0; twice < 2; twice++) {
        expect(outputsOf(r)).toEqual(want);
        expect(errorJsonOf(r)).toBe(checkErrorJson(r));
      }
      problems.add(`${want.utf8} ${'problem' in want && want.problem === null} ${checkErrorJson(r) === null}`);
    }
    // Good and bad outputs, good and bad error JSON, and bytes that are not UTF-8 all occurred.
    expect(problems).toEqual(new Set(['true true false', 'true false false', 'true false true', 'false false false']));
    expect(memoStats().outputs.hits).toBeGreaterThanOrEqual(results.length);
  });
});

describe('classifyPayloadBytes UTF-8 pre-check', () => {
  it('calls bytes not UTF-8 exactly where the fatal decoder throws', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const nearlyText = fc.tuple(fc.string({ unit: 'grapheme' }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, at, byte]) => {
      const b = new TextEncoder().encode(s);
      if (b.length) b[at % b.length] = byte;
      return b;
    });
    let invalid = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 12 }), nearlyText), (bytes) => {
        let decodes = true;
        try {
          decoder.decode(bytes);
        } catch {
          decodes = false;
        }
        if (!decodes) invalid++;
        expect(classifyPayloadBytes(bytes).reason === 'payload is not valid UTF-8').toBe(!decodes);
      }),
      { seed: 5, numRuns: 3000 },
    );
    expect(invalid).toBeGreaterThan(300);
  });
});

describe('the coverage drain', () => {
  interface Recording {
    inputs: FuzzInput[];
    /** Per input, on a fresh instance: a hash of its sparse trace. */
    fresh: string[];
    /** Per input, on a fresh instance of the CmpLog build: a hash of its CmpLog finds. */
    cmplog: string[];
    /** The inputs in turn on one persistent instance replaced every 40 inputs: the hash of each novel input's trace, null for the rest. */
    persistent: (string | null)[];
  }
  const hash = (x: string | Uint8Array) => createHash('sha256').update(x).digest('hex').slice(0, 16);
  const traceHash = (t: Uint32Array) => hash(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));

  it('gives the traces, CmpLog finds and novelty decisions the full-scan drain gave on the WAT reference pack', async () => {
    const rec = JSON.parse(readFileSync(new URL('./fixtures/fuzz-drain-wat.json', import.meta.url), 'utf8')) as Recording;
    const bytes = readFileSync(await buildWat(WAT_REFERENCE, 'wat-reference'));
    const inst = await instrumentPack(bytes, { cmplog: true });
    const reader = new CoverageReader(inst.edges);
    const templates = [{ name: 'wat.echo', factoryId: 0, inports: ['in'], outports: ['out', 'count'] }];
    const guard = new CallGuard(null, 2000);
    const edge = new PersistentJudge({ module: new WebAssembly.Module(inst.bytes as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('edges') }, 40);
    const cmp = new PersistentJudge({ module: new WebAssembly.Module(inst.cmplogBytes! as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('cmplog') }, 1000);
    const freshTraces = rec.inputs.map((i) => {
      reader.begin(false);
      edge.run(i, true);
      reader.finish(true);
      return traceHash(reader.sparse());
    });
    expect(freshTraces).toEqual(rec.fresh);
    const finds = rec.inputs.map((i) => {
      reader.begin(true);
      cmp.run(i, true);
      reader.finish(true);
      return hash(JSON.stringify(reader.cmpFinds()));
    });
    expect(finds).toEqual(rec.cmplog);
    // Then in turn on one instance, with the same reader (its seen bits from the runs above), as recorded.
    let unread = 0;
    const persistent = rec.inputs.map((i) => {
      reader.begin(false);
      edge.run(i);
      if (reader.finish()) return traceHash(reader.sparse());
      if (reader.sparse().length === 0) unread++;
      return null;
    });
    expect(persistent).toEqual(rec.persistent);
    // The shortcut was taken: inputs the instance called old were zeroed without a trace read.
    expect(unread).toBeGreaterThan(rec.inputs.length / 2);
  });
});
