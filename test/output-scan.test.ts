// The one-pass acceptance of plain String/Bytes results (properties/wasm-output-scan.ts)
// may only say "valid" where the full classification (checkOutputs) finds no invalid Message.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOutputs } from '../harness/abi/message-schema.ts';
import { plainlyValidOutputs } from '../properties/wasm-output-scan.ts';

const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n');
const jsonNumber = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)), fc.constantFrom('-0', '1e5', '2.50E-3', '300', '-7'));
const plainMessage = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => `{"type":"String","data":${JSON.stringify(s)}}`),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `{"type":"String","data":${JSON.stringify(s)}}`),
  jsonNumber.map((n) => `{"type":"Integer","data":${n}}`),
  fc.boolean().map((b) => `{"type":"Boolean","data":${b}}`),
  fc.tuple(fc.array(fc.tuple(jsonNumber, ws), { maxLength: 12 }), ws).map(([ns, w]) => `{"type":"Bytes",${w}"data":[${w}${ns.map(([n, w2]) => `${n}${w2}`).join(',')}]}`),
);
const plainOutputs = fc.tuple(fc.uniqueArray(fc.tuple(fc.string({ maxLength: 8 }), plainMessage), { maxLength: 3, selector: ([k]) => k }), ws).map(([ports, w]) => `${w}{${ports.map(([k, m]) => `${JSON.stringify(k)}${w}:${w}${m}`).join(`,${w}`)}}${w}`);

describe('plainlyValidOutputs', () => {
  it('accepts plain String, Bytes, Integer and Boolean results, each of which checkOutputs finds valid', () => {
    fc.assert(
      fc.property(plainOutputs, (text) => {
        expect(plainlyValidOutputs(text), text).toBe(true);
        expect(checkOutputs(text), text).toBeNull();
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it('never accepts what checkOutputs finds invalid (results damaged at a random place)', () => {
    const damaged = fc.tuple(plainOutputs, fc.nat(), fc.constantFrom('', '"', '\\', ']', '}', ',', ':', '\u0001', 'x', '[', '-', '.', 'e', 't', '{"type":"Integer","data":"5"}'), fc.nat({ max: 3 })).map(([t, at, ins, cut]) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + ins + t.slice(i + cut);
    });
    let rejected = 0;
    fc.assert(
      fc.property(damaged, (text) => {
        if (plainlyValidOutputs(text)) expect(checkOutputs(text), text).toBeNull();
        else rejected++;
      }),
      { numRuns: 2000, seed: 9 },
    );
    expect(rejected).toBeGreaterThan(500);
  });

  it('leaves every other form to checkOutputs', () => {
    for (const text of [
      '{"out":{"type":"Bytes","data":["1"]}}', // a string element: invalid
      '{"out":{"type":"String","data":5}}', // invalid
      '{"out":{"type":"String","data":"a\u0001"}}', // a raw control character: not JSON
      '{"out":{"type":"String","data":"\\x"}}', // no such escape
      '{"out":{"type":"Bytes","data":[01]}}', // a leading zero: not JSON
      '{"out":{"type":"Bytes","data":[1,]}}',
      '{"out":{"data":"a","type":"String"}}', // valid, but not the plain member order
      '{"out":{"type":"Integer","data":"5"}}', // invalid
      '{"out":{"type":"Boolean","data":1}}', // invalid
      '{"out":{"type":"Float","data":5}}', // valid, but not a variant taken here
      '{"out":{"type":"String","data":"a"}} x',
      '{"out":{"type":"String","data":"a"}',
      '[]',
      '',
    ])
      expect(plainlyValidOutputs(text), text).toBe(false);
    expect(plainlyValidOutputs('{}')).toBe(true);
    expect(plainlyValidOutputs('{"a":{"type":"Bytes","data":[]},"b":{"type":"String","data":"\\ud800"}}')).toBe(true);
  });
});
