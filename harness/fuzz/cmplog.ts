// Input-to-state (after AFL++'s RedQueen): when CmpLog saw an input compare
// a value it carries against another one, the child that carries the other
// value instead is worth running at once. Integers are matched against the
// input's JSON numbers (also as 32-bit wraps, as a pack compares an i32),
// byte strings against its member names and string values (a memcmp-like
// call compares n bytes from the start of a token, so the token may be a
// prefix of what was compared, followed by its closing quote).
import type { CmpFinds } from './coverage.ts';
import { parseTree, printTree, slotsOf, type JNode } from './json-tree.ts';
import type { FuzzInput } from './input.ts';

const MAX_CHILDREN = 12;

function numberMatches(raw: string, v: bigint): boolean {
  if (!/^-?\d+$/.test(raw)) return false;
  const n = BigInt(raw);
  return n === v || BigInt.asIntN(32, n) === BigInt.asIntN(32, v) && v >= -(2n ** 31n) && v < 2n ** 32n;
}

const stringMatches = (s: string, compared: string) => s.length > 0 && (s === compared || compared.startsWith(`${s}"`) || (s.length >= compared.length && s.startsWith(compared)));

/**
 * Children of `input` with one compared operand swapped for the other.
 * `known` puts first the values that are constants of the module (what the
 * code compares against), so that the few children kept are the likely ones.
 */
export function inputToState(input: FuzzInput, raw: CmpFinds, known: (v: bigint) => boolean = () => false): FuzzInput[] {
  const rank = ([a, b]: [string, string]) => (known(BigInt(a)) || known(BigInt(b)) ? 0 : 1);
  const finds: CmpFinds = { ints: [...raw.ints].sort((x, y) => rank(x) - rank(y)), strings: raw.strings };
  const out: FuzzInput[] = [];
  const seen = new Set<string>();
  const push = (tick: number, root: JNode) => {
    const text = printTree(root);
    if (seen.has(`${tick}\n${text}`) || out.length >= MAX_CHILDREN) return;
    seen.add(`${tick}\n${text}`);
    const ticks = [...input.ticks];
    ticks[tick] = text;
    out.push({ ...input, ticks });
  };
  // A copy of the tick's tree is parsed only for a match (most slots match nothing).
  input.ticks.forEach((p, tick) => {
    if (typeof p !== 'string') return;
    const base = parseTree(p);
    if (!base) return;
    const slots = slotsOf(base);
    const edit = (k: number, change: (slot: ReturnType<typeof slotsOf>[number]) => void) => {
      const copy = parseTree(p)!;
      change(slotsOf(copy)[k]!);
      push(tick, copy);
    };
    for (let k = 0; k < slots.length && out.length < MAX_CHILDREN; k++) {
      const { node, owner } = slots[k]!;
      if (node.t === 'num') {
        for (const [a, b] of finds.ints) {
          for (const [from, to] of [[a, b], [b, a]] as const) {
            if (!numberMatches(node.raw, BigInt(from))) continue;
            edit(k, (slot) => slot.replace?.({ t: 'num', raw: BigInt(to) < 0n && BigInt(from) >= 0n ? (BigInt(to) + 2n ** 32n).toString() : to }));
          }
        }
      }
      const key = owner && 'obj' in owner ? owner.obj.members[owner.index]![0] : null;
      for (const [x, y] of finds.strings) {
        for (const [from, to] of [[x, y], [y, x]] as const) {
          if (node.t === 'str' && stringMatches(node.v, from)) edit(k, (slot) => slot.replace?.({ t: 'str', v: to.split('"')[0]! }));
          // Member names: the owner's key.
          if (key !== null && stringMatches(key, from))
            edit(k, (slot) => {
              if (slot.owner && 'obj' in slot.owner) slot.owner.obj.members[slot.owner.index]![0] = to.split('"')[0]!;
            });
        }
      }
    }
  });
  return out;
}
