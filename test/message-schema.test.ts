import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLosslessNumber } from 'lossless-json';
import {
  I64_MAX,
  I64_MIN,
  MESSAGE_SCHEMA,
  checkErrorJson,
  checkOutputs,
  classifyMessage,
  classifyPayload,
  classifyPayloadBytes,
  duplicateMembersOf,
  parseLossless,
  type Mode,
  type Verdict,
} from '../harness/abi/message-schema.ts';
import { scalarValueChar } from '../properties/arbitraries/utf8.ts';

const enc = new TextEncoder();

function verdict(text: string, mode: Mode = 'input'): Verdict {
  return classifyMessage(parseLossless(text), mode).verdict;
}

/** Assert each message text classifies as expected, naming the text on failure. */
function expectAll(expected: Verdict, texts: string[], mode: Mode = 'input'): void {
  for (const t of texts) {
    const r = classifyMessage(parseLossless(t), mode);
    expect({ text: t, verdict: r.verdict }, r.reason).toEqual({ text: t, verdict: expected });
    if (expected !== 'valid') expect(typeof r.reason, `reason for ${t}`).toBe('string');
  }
}

const msg = (type: string, data?: string) => (data === undefined ? `{"type":${JSON.stringify(type)}}` : `{"type":${JSON.stringify(type)},"data":${data}}`);

describe('MESSAGE_SCHEMA', () => {
  it('is versioned and lists the 16 variants of 0.2.1 in order', () => {
    expect(MESSAGE_SCHEMA.version).toBe('reflow-message/0.2.1');
    expect([...MESSAGE_SCHEMA.variants]).toEqual([
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
    ]);
    expect(Object.keys(MESSAGE_SCHEMA.dataKinds).sort()).toEqual([...MESSAGE_SCHEMA.variants].sort());
    expect([...MESSAGE_SCHEMA.networkEventTypes]).toEqual(['ActorRegistered', 'ActorUnregistered', 'NetworkConnected', 'NetworkDisconnected', 'HeartbeatMissed']);
    expect(I64_MIN).toBe(-9223372036854775808n);
    expect(I64_MAX).toBe(9223372036854775807n);
  });
});

describe('parseLossless', () => {
  it('keeps the exact text of numbers', () => {
    const v = parseLossless('{"a":9223372036854775807,"b":1.0,"c":-0,"d":1e3}') as Record<string, unknown>;
    for (const [k, text] of [['a', '9223372036854775807'], ['b', '1.0'], ['c', '-0'], ['d', '1e3']] as const) {
      const n = v[k];
      expect(isLosslessNumber(n)).toBe(true);
      expect(String(n)).toBe(text);
    }
  });

  it('throws on text that is not JSON', () => {
    for (const t of ['', ' ', '{', '{"a":1,}', "{'a':1}", '{a:1}', 'NaN', '01', '[1 2]', '"\u0001"', '{"a":1} x', '\uFEFF{}']) {
      expect(() => parseLossless(t), JSON.stringify(t)).toThrow();
    }
  });

  it('does not throw on duplicate members; the last wins and the duplicate is recorded', () => {
    const v = parseLossless('{"input":{"p":{"type":"Boolean","data":true,"data":false},"q":{"type":"Flow","type":"Flow"}}}') as {
      input: Record<string, Record<string, unknown>>;
    };
    const p = v.input['p'] as Record<string, unknown>;
    const q = v.input['q'] as Record<string, unknown>;
    expect(p['data']).toBe(false);
    expect([...(duplicateMembersOf(p) ?? [])]).toEqual(['data']);
    // equal duplicates, which lossless-json itself does not report
    expect([...(duplicateMembersOf(q) ?? [])]).toEqual(['type']);
    expect(duplicateMembersOf(v)).toBeUndefined();
    expect(duplicateMembersOf(v.input)).toBeUndefined();
  });

  it('records duplicates inside arrays and under escaped keys', () => {
    const v = parseLossless('[1, {"x": [{"a":1, "\\u0061":2}]}]') as [unknown, { x: [Record<string, unknown>] }];
    expect([...(duplicateMembersOf(v[1].x[0]) ?? [])]).toEqual(['a']);
  });

  it('keeps a __proto__ member as an own member', () => {
    const v = parseLossless('{"__proto__":{"type":"Flow"}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('accepts exactly the texts JSON.parse accepts (duplicates aside)', () => {
    const texts = fc.oneof(
      fc.json({ maxDepth: 3, stringUnit: scalarValueChar() }),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', '0', '-', '.', 'e', '+', 't', 'r', 'u', 'n', 'l', ' ', '\\', 'a'), maxLength: 16 }),
    );
    fc.assert(
      fc.property(texts, (t) => {
        let jsonOk = true;
        try {
          JSON.parse(t);
        } catch {
          jsonOk = false;
        }
        let losslessOk = true;
        try {
          parseLossless(t);
        } catch {
          losslessOk = false;
        }
        expect(losslessOk).toBe(jsonOk);
      }),
      { numRuns: 300 },
    );
  });
});

describe('classifyMessage: the envelope row', () => {
  it('accepts an object with a string type naming a variant, members in either order', () => {
    expectAll('valid', ['{"type":"Boolean","data":true}', '{"data":true,"type":"Boolean"}', '{ "type" : "Flow" }', '{"\\u0074ype":"Flow"}']);
  });
  it('rejects a scalar or null; type missing, not a string, or an unknown variant', () => {
    expectAll('invalid', [
      '5',
      'null',
      'true',
      '"Flow"',
      '{}',
      '{"data":true}',
      '{"Type":"Boolean","data":true}',
      '{"type":5,"data":1}',
      '{"type":null}',
      '{"type":true,"data":true}',
      '{"type":["Flow"]}',
      '{"type":{"Flow":null}}',
      '{"type":"flow"}',
      '{"type":"Int","data":1}',
      '{"type":"","data":1}',
      '{"type":"Boolean ","data":true}',
    ]);
  });
  it('leaves open an array and duplicate members', () => {
    expectAll('open', [
      '["Boolean",true]',
      '[]',
      '{"type":"Boolean","data":true,"data":false}',
      '{"type":"Boolean","data":true,"data":true}',
      '{"type":"Boolean","type":"Boolean","data":true}',
      // a repeated `data` may hide either value
      '{"type":"Integer","data":"5","data":5}',
      '{"type":"Flow","x":1,"x":2}',
      '{"type":"Flow","x":"\\ud800"}',
    ]);
  });
  it('tolerates extra members: the verdict comes from type and data', () => {
    expectAll('valid', ['{"type":"Boolean","data":true,"extra":1}', '{"meta":{"a":[1]},"type":"Flow"}']);
    expectAll('invalid', ['{"type":"Integer","data":"5","extra":1}', '{"type":"Integer","data":"5","x":1,"x":2}', '{"type":"Integer","data":"5","x":"\\ud800"}']);
  });
  it('names the problem in the reason', () => {
    expect(classifyMessage(parseLossless('{"type":"Integer","data":"5"}'), 'input')).toEqual({
      verdict: 'invalid',
      reason: 'Integer data must be an integer in the i64 range, got string "5"',
    });
    expect(classifyMessage(parseLossless('{"type":"flow"}'), 'input').reason).toContain('"flow"');
    expect(classifyMessage(parseLossless('{"data":1}'), 'input').reason).toContain('"type"');
  });
});

describe('classifyMessage: the data rows', () => {
  it('Flow: no data; "data": null is left open', () => {
    expectAll('valid', [msg('Flow')]);
    expectAll('open', [msg('Flow', 'null'), msg('Flow', '{}')]);
  });

  it('Boolean / String / Error', () => {
    expectAll('valid', [msg('Boolean', 'true'), msg('Boolean', 'false'), msg('String', '""'), msg('String', '"a\\"\\\\\\u0000\u2028😀"'), msg('String', '"\\ud83d\\ude00"'), msg('Error', '"boom"')]);
    for (const v of ['Boolean', 'String', 'Error']) {
      const others = ['1', '1.5', 'null', '{}', '[]', '[true]', '{"data":[1]}'];
      others.push(v === 'Boolean' ? '"true"' : 'true');
      expectAll('invalid', [...others.map((d) => msg(v, d)), msg(v)]);
    }
    expectAll('open', [msg('String', '"\\ud800"'), msg('Error', '"a\\udfffb"'), msg('String', '"\\ude00\\ud83d"')]);
  });

  it('Integer: exact decimal text in the i64 range', () => {
    expectAll('valid', ['0', '1', '-1', '9007199254740993', '9223372036854775807', '-9223372036854775808'].map((d) => msg('Integer', d)));
    expectAll('invalid', ['"5"', 'true', 'null', '{}', '[]', '[5]'].map((d) => msg('Integer', d)));
    expectAll('open', ['-0', '1.0', '0.5', '1e3', '1E2', '-1e0', '9223372036854775808', '-9223372036854775809', '100000000000000000000000'].map((d) => msg('Integer', d)));
  });

  it('Float: any finite number; null open in input, valid in output', () => {
    expectAll('valid', ['0', '-0', '1', '1.5', '-2.5e-3', '1e300', '5e-324', '1.0', '12345678901234567890123', '1e-400'].map((d) => msg('Float', d)));
    expectAll('invalid', ['"1.5"', 'true', '{}', '[]', '[1.5]'].map((d) => msg('Float', d)));
    expectAll('invalid', [msg('Float')]);
    expectAll('open', [msg('Float', 'null'), msg('Float', '1e400')]);
    expectAll('valid', [msg('Float', 'null')], 'output');
  });

  it('Bytes / Encoded: arrays of integers 0..255', () => {
    for (const v of ['Bytes', 'Encoded']) {
      expectAll('valid', ['[]', '[0,255]', '[1,2,3,128]'].map((d) => msg(v, d)));
      expectAll('invalid', ['"abc"', '{}', 'null', '5', 'true', '[1,"2"]', '[null]', '[[1]]', '[{}]'].map((d) => msg(v, d)));
      expectAll('open', ['[256]', '[-1]', '[1.5]', '[1.0]', '[1e2]', '[-0]', '[0,1000]'].map((d) => msg(v, d)));
    }
  });

  it('Event / Object / Any: EncodableValue {"data": [u8…]} of a JSON text', () => {
    const one = '{"data":[49]}'; // "1"
    const nul = '{"data":[110,117,108,108]}'; // "null"
    for (const v of ['Event', 'Object', 'Any']) {
      expectAll('valid', [msg(v, one), msg(v, nul), msg(v, '{"data":[34,195,169,34]}') /* "é" */, msg(v, '{"data":[49],"extra":true}')]);
      expectAll('invalid', ['5', 'null', '"x"', 'true', '{}', '{"Data":[49]}', '{"data":"1"}', '{"data":null}', '{"data":{}}', '{"data":5}', '{"data":[49,"x"]}'].map((d) => msg(v, d)));
      expectAll('open', ['[[49]]', '[]', '{"data":[123]}', '{"data":[]}', '{"data":[255]}', '{"data":[239,187,191,49]}' /* BOM + "1" */, '{"data":[256]}', '{"data":[49],"data":[50]}'].map((d) => msg(v, d)));
    }
  });

  it('Array: an array of EncodableValue', () => {
    expectAll('valid', ['[]', '[{"data":[49]}]', '[{"data":[49]},{"data":[91,93]}]'].map((d) => msg('Array', d)));
    expectAll('invalid', ['{"data":[49]}', '5', 'null', '"x"', 'true', '[5]', '[{"data":"1"}]'].map((d) => msg('Array', d)));
    expectAll('open', ['[[[49]]]', '[{"data":[123]}]'].map((d) => msg('Array', d)));
  });

  it('Optional: null or an EncodableValue', () => {
    expectAll('valid', ['null', '{"data":[49]}'].map((d) => msg('Optional', d)));
    expectAll('invalid', ['"x"', 'true', '5', '1.5'].map((d) => msg('Optional', d)));
    expectAll('open', [msg('Optional', '[[49]]'), msg('Optional', '[]'), msg('Optional')]);
  });

  it('RemoteReference: three string members', () => {
    expectAll('valid', [
      msg('RemoteReference', '{"network_id":"n","actor_id":"a","port":"p"}'),
      msg('RemoteReference', '{"port":"","network_id":"é","actor_id":"\\""}'),
      msg('RemoteReference', '{"network_id":"n","actor_id":"a","port":"p","extra":1}'),
    ]);
    expectAll(
      'invalid',
      ['5', 'null', '"n"', 'true', '{}', '{"network_id":"n","actor_id":"a"}', '{"network_id":"n","actor_id":5,"port":"p"}', '{"network_id":null,"actor_id":"a","port":"p"}', '{"network_id":"n","actor_id":"a","port":["p"]}'].map((d) =>
        msg('RemoteReference', d),
      ),
    );
    expectAll('open', ['["n","a","p"]', '{"network_id":"\\ud800","actor_id":"a","port":"p"}'].map((d) => msg('RemoteReference', d)));
  });

  it('NetworkEvent: a listed event_type and an EncodableValue', () => {
    for (const et of MESSAGE_SCHEMA.networkEventTypes) {
      expectAll('valid', [msg('NetworkEvent', `{"event_type":"${et}","data":{"data":[49]}}`), msg('NetworkEvent', `{"data":{"data":[49]},"event_type":"${et}"}`)]);
    }
    expectAll('invalid', ['5', 'null', '"x"', '{"event_type":"Foo","data":{"data":[49]}}', '{"event_type":"actorRegistered","data":{"data":[49]}}', '{"event_type":"","data":{"data":[49]}}'].map((d) => msg('NetworkEvent', d)));
    expectAll('open', ['["ActorRegistered",{"data":[49]}]', '{"event_type":{"ActorRegistered":null},"data":{"data":[49]}}'].map((d) => msg('NetworkEvent', d)));
    expectAll('valid', [msg('NetworkEvent', '{"event_type":"ActorRegistered","data":{"data":[49]},"extra":[]}')]);
  });

  it('StreamHandle: nothing required in input; any object valid in output', () => {
    expectAll('open', [msg('StreamHandle', '{}'), msg('StreamHandle', '{"id":1}'), msg('StreamHandle', '5'), msg('StreamHandle')]);
    expectAll('valid', [msg('StreamHandle', '{}'), msg('StreamHandle', '{"id":1,"kind":"x"}')], 'output');
  });

  it('output mode is input mode plus Float null and StreamHandle objects', () => {
    expectAll('invalid', [msg('Integer', '"5"'), msg('Float', '"x"'), '{"type":"nope"}', '5'], 'output');
    expectAll('open', [msg('Integer', '-0'), msg('Flow', 'null')], 'output');
  });
});

describe('classifyPayload: the payload row', () => {
  const p = (text: string) => classifyPayload(parseLossless(text));
  it('accepts an object with input an object of Messages, or missing; other members ignored', () => {
    for (const t of ['{}', '{"input":{}}', '{"input":{"in":{"type":"Flow"}}}', '{"config":{"a":1},"input":{"a":{"type":"Integer","data":-9223372036854775808},"b":{"type":"Bytes","data":[1]}}}', '{"config":1}']) {
      expect(p(t).verdict, t).toBe('valid');
    }
  });
  it('rejects a scalar or null, input not an object, and any invalid Message', () => {
    for (const t of ['5', 'null', '"x"', 'true', '{"input":null}', '{"input":[]}', '{"input":[{"type":"Flow"}]}', '{"input":5}', '{"input":"x"}', '{"input":{"in":5}}', '{"input":{"a":{"type":"Flow"},"b":{"type":"Integer","data":"5"}}}']) {
      expect(p(t).verdict, t).toBe('invalid');
    }
    expect(p('{"input":{"b":{"type":"Integer","data":"5"}}}').reason).toBe('input "b": Integer data must be an integer in the i64 range, got string "5"');
  });
  it('leaves open a top-level array and payloads whose Messages are open', () => {
    for (const t of ['[]', '[{"type":"Flow"}]', '{"input":{"a":{"type":"Flow","data":null}}}', '{"input":{"a":{"type":"Integer","data":1.0}}}', '{"input":{"\\ud800":{"type":"Flow"}}}', '{"input":{"a":{"type":"Flow"},"a":{"type":"Flow"}}}', '{"input":{},"input":{}}', '{"input":{"a":{"type":"Integer","data":"5"},"a":{"type":"Flow"}}}']) {
      expect(p(t).verdict, t).toBe('open');
    }
  });
  it('an invalid Message beats an open one', () => {
    expect(p('{"input":{"a":{"type":"Flow","data":null},"b":{"type":"Float","data":true}}}').verdict).toBe('invalid');
  });
  it('a repeated member inside an ignored top-level member is open: the dropped occurrence may hold what serde rejects', () => {
    // Found by packcheck fuzz on both reference packs (they answer -3): the first "self.height" holds a lone surrogate, the second wins the parse.
    const found = '{"atMis":{"self.height":{"data":{"network_id":"\\udac2"}},"self.height":{}}}';
    expect(classifyPayloadBytes(enc.encode(found))).toMatchObject({ verdict: 'open', reason: expect.stringMatching(/extra member "atMis" has a repeated member inside/) });
    // Inside a Message's extra member too; without the repetition the same shapes stay valid.
    expect(p('{"input":{"a":{"type":"Flow","x":{"k":1,"k":2}}}}').verdict).toBe('open');
    expect(p('{"atMis":{"self.height":{}}}').verdict).toBe('valid');
    expect(p('{"input":{"a":{"type":"Flow","x":{"k":1}}}}').verdict).toBe('valid');
  });
  it('classifyPayloadBytes: not UTF-8, empty and not JSON are invalid', () => {
    expect(classifyPayloadBytes(new Uint8Array()).verdict).toBe('invalid');
    expect(classifyPayloadBytes(Uint8Array.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])).reason).toContain('UTF-8');
    expect(classifyPayloadBytes(enc.encode('{"input":')).reason).toContain('not JSON');
    expect(classifyPayloadBytes(enc.encode('{"input":{"é":{"type":"Flow"}}}')).verdict).toBe('valid');
    // a UTF-8 BOM is not JSON whitespace: the decoder must not swallow it
    expect(classifyPayloadBytes(enc.encode('\uFEFF{"input":{}}')).verdict).toBe('invalid');
  });
});

describe('checkOutputs', () => {
  it('passes objects of valid, output-only and open Messages', () => {
    for (const t of [
      '{}',
      '{"out":{"type":"Integer","data":9223372036854775807}}',
      '{"out":{"type":"Float","data":null}}',
      '{"out":{"type":"StreamHandle","data":{"id":7}}}',
      '{"a":{"type":"Integer","data":-0},"b":{"type":"Flow","data":null},"c":["Boolean",true]}',
      '{"out":{"type":"String","data":"\\ud800"}}',
    ]) {
      expect(checkOutputs(t), t).toBeNull();
    }
  });
  it('fails text that is not an object of Messages, naming the port', () => {
    expect(checkOutputs('{"out":{"type":"Integer","data":"5"}}')).toBe('output port "out": Integer data must be an integer in the i64 range, got string "5"');
    expect(checkOutputs('{"ok":{"type":"Flow"},"bad":5}')).toContain('"bad"');
    expect(checkOutputs('{"x":{"type":"Bool","data":true}}')).toContain('unknown message variant "Bool"');
    expect(checkOutputs('[]')).toContain('must be a JSON object');
    expect(checkOutputs('null')).toContain('must be a JSON object');
    expect(checkOutputs('{"out":')).toContain('not valid JSON');
    expect(checkOutputs('')).toContain('not valid JSON');
  });
});

describe('checkErrorJson', () => {
  it('accepts an object with a string error member', () => {
    expect(checkErrorJson(enc.encode('{"error":"unknown instance"}'))).toBeNull();
    expect(checkErrorJson(enc.encode('{"error":"parse payload: invalid type: string \\"abc\\", expected a map","code":-3}'))).toBeNull();
    expect(checkErrorJson(enc.encode(' {"error":""} '))).toBeNull();
  });
  it('catches the 0.2.1 unescaped error JSON', () => {
    const broken = enc.encode('{"error":"parse payload: invalid type: string "abc", expected a map"}');
    const reason = checkErrorJson(broken);
    expect(reason).toMatch(/^not valid JSON: /);
  });
  it('rejects bytes that are not UTF-8, non-objects and a missing or non-string error', () => {
    expect(checkErrorJson(Uint8Array.from([0x7b, 0x22, 0x65, 0xff, 0x22, 0x7d]))).toBe('not valid UTF-8');
    expect(checkErrorJson(new Uint8Array())).toMatch(/^not valid JSON/);
    expect(checkErrorJson(enc.encode('["error"]'))).toContain('not a JSON object');
    expect(checkErrorJson(enc.encode('"error"'))).toContain('not a JSON object');
    expect(checkErrorJson(enc.encode('{"err":"x"}'))).toContain('no "error" member');
    expect(checkErrorJson(enc.encode('{"error":5}'))).toContain('must be a string');
    expect(checkErrorJson(enc.encode('{"error":null}'))).toContain('must be a string');
    expect(checkErrorJson(enc.encode('\uFEFF{"error":"x"}'))).toMatch(/^not valid JSON/);
  });
});

describe('classifiers never throw', () => {
  it('on any JSON value, in both modes', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3, stringUnit: scalarValueChar() }), fc.constantFrom<Mode>('input', 'output'), (t, mode) => {
        const v = parseLossless(t);
        expect(['valid', 'invalid', 'open']).toContain(classifyMessage(v, mode).verdict);
        expect(['valid', 'invalid', 'open']).toContain(classifyPayload(v).verdict);
        const out = checkOutputs(t);
        expect(out === null || typeof out === 'string').toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

// reason strings used by other modules' reports stay short
describe('reasons', () => {
  it('truncate long values', () => {
    const long = 'x'.repeat(10_000);
    const r = classifyMessage(parseLossless(msg('Integer', JSON.stringify(long))), 'input');
    expect(r.verdict).toBe('invalid');
    expect((r.reason ?? '').length).toBeLessThan(200);
  });
  it('describe the offending value', () => {
    expect(verdict(msg('Boolean', '1'))).toBe('invalid');
    expect(classifyMessage(parseLossless(msg('Boolean', '1')), 'input').reason).toBe('Boolean data must be a boolean, got number 1');
    expect(classifyMessage(parseLossless(msg('Bytes', '[1,"2"]')), 'input').reason).toContain('Bytes data[1]');
  });
});
