// The mutator's JSON tree (harness/fuzz/json-tree.ts): it must read every
// JSON text back exactly (numbers by their text, members in order, repeats
// kept), refuse what is not JSON, and copy trees deeply; campaigns depend on
// it input by input, so a change to it must not change one answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clone, parseTree, printTree, slotsOf } from '../harness/fuzz/json-tree.ts';

describe('json-tree', () => {
  it('reads any JSON text as JSON.parse does and prints it back as JSON.stringify would', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        const tree = parseTree(text);
        expect(tree).not.toBeNull();
        expect(JSON.parse(printTree(tree!))).toEqual(JSON.parse(text));
        // Compact text reads back to itself: numbers keep their text, members their order.
        const compact = JSON.stringify(JSON.parse(text));
        expect(printTree(parseTree(compact)!)).toBe(compact);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('keeps what JSON.parse would lose: exact number text, repeated members, escapes', () => {
    const text = '{"a":9223372036854775807,"a":-0,"b":1e3,"s":"\\u00e9\\n\\"q\\"","t":"plain é €"}';
    const tree = parseTree(text)!;
    expect(printTree(tree)).toBe('{"a":9223372036854775807,"a":-0,"b":1e3,"s":"é\\n\\"q\\"","t":"plain é €"}');
    expect(tree.t === 'obj' && tree.members.map(([k]) => k)).toEqual(['a', 'a', 'b', 's', 't']);
  });

  it('refuses text that is not JSON, and nesting past its depth limit', () => {
    for (const bad of ['', '{', '{"a"}', '[1,]', '"\u0001"', '"\\x"', '01', 'tru', '{"a":1} x', '[' + '1'.repeat(401) + ']']) expect(parseTree(bad), bad).toBeNull();
    expect(parseTree('['.repeat(202) + ']'.repeat(202))).toBeNull();
    expect(parseTree('['.repeat(201) + ']'.repeat(201))).not.toBeNull(); // the root is depth 0, the limit 200
  });

  it('copies a tree deeply: editing the copy leaves the original as it was', () => {
    const tree = parseTree('{"input":{"in":{"type":"Array","data":[1,[2,{"x":"y"}],true,null]}}}')!;
    const copy = clone(tree);
    expect(copy).toEqual(tree);
    for (const s of slotsOf(copy)) if (s.replace) s.replace({ t: 'lit', raw: 'null' });
    expect(printTree(tree)).toBe('{"input":{"in":{"type":"Array","data":[1,[2,{"x":"y"}],true,null]}}}');
  });
});
