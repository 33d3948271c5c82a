// Mutation of fuzz inputs: structure first (ticks, then the JSON tree of a
// payload: Messages of every variant, port names, dictionary tokens,
// AFL's arithmetic and interesting values, splicing, nesting), bytes second
// (the JSON text bit by bit, so invalid UTF-8 and invalid JSON paths are
// reached too). A tick is parsed at most once per child and printed once.
// Besides random (havoc) children, `stage` gives a new corpus entry its
// deterministic children: where a tick sequence grows.
import type { Template } from '../abi/registration.ts';
import { TokenBag } from './dictionary.ts';
import { clone, parseTree, printTree, slotsOf, type JNode } from './json-tree.ts';
import { payloadBytes, payloadOf, type FuzzInput, type Payload } from './input.ts';

/** A seeded PRNG (mulberry32): the same seed gives the same campaign. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Largest payload a mutation keeps (large payloads are the battery's wasm.run.large-payload). */
const MAX_TICK_BYTES = 2048;
/** AFL's arithmetic stage: a number stepped by 1..ARITH_MAX up or down. */
export const ARITH_MAX = 35;
/** AFL's interesting_8/16/32 (the sizes and limits code tests against), as decimal text, with their negations. */
const AFL_INTERESTING = [-128, -1, 0, 1, 16, 32, 64, 100, 127, -32768, -129, 128, 255, 256, 512, 1000, 1024, 4096, 32767, -2147483648, -100663046, -32769, 32768, 65535, 65536, 100663045, 2147483647];
export const INTERESTING = [...new Set(AFL_INTERESTING.flatMap((v) => [String(v), String(-v)]))];
/** The longest tick sequence the deterministic stage extends (state machines in packs are shallow). */
const STAGE_MAX_TICKS = 8;
/** Numbers of one tick the deterministic stage walks (a byte array holds hundreds: a few are sampled). */
const STAGE_SLOTS = 2;
/** Dictionary integers the deterministic stage tries on each number. */
const STAGE_DICT = 128;
const INTEGER_TEXT = /^-?\d{1,20}$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8 = new TextEncoder();
const NUMERIC_EDGES = ['0', '-1', '1', '2', '127', '128', '255', '256', '65535', '65536', '2147483647', '2147483648', '-2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740993', '9223372036854775807', '-9223372036854775808', '-0', '1.5', '1e3'];
const STRING_EDGES = ['', 'a', '\u0000', '\u00e9', '\u20ac', '\u{1f600}', '\ufeff', '\u2028', '"', '\\', 'x'.repeat(300)];
/** Byte sequences that are not UTF-8 (ABI.md's list: stray continuation, overlong, surrogates, F5..FF, cut sequences). */
const INVALID_UTF8 = [[0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];
const INTERESTING_BYTES = [0x00, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x30, 0x2d, 0x7f, 0x80, 0xc0, 0xff];

/** A JSON array of byte values (how Object and Array Messages carry their encoded data). */
function isByteArray(n: JNode): boolean {
  return n.t === 'arr' && n.items.length > 0 && n.items.every((i) => i.t === 'num' && /^\d{1,3}$/.test(i.raw) && Number(i.raw) < 256);
}

export interface MutatorSources {
  templates: readonly Template[];
  /** Valid Messages as JSON text (from the Message arbitraries). */
  messages: readonly string[];
  /** Dictionary strings and integers (static, then what CmpLog adds). */
  strings: TokenBag<string>;
  ints: TokenBag<bigint>;
  /** What CmpLog recorded: kept apart so thousands of run-time operands do not drown the module's own constants. */
  cmpStrings: TokenBag<string>;
  cmpInts: TokenBag<bigint>;
}

/** A tick being mutated: parsed once, edited in place by stacked mutations, printed once when the child is done. */
interface Draft {
  root: JNode;
}
type Tick = Payload | Draft;
const isDraft = (t: Tick): t is Draft => typeof t === 'object' && 'root' in t;
const settle = (t: Tick): Payload => (isDraft(t) ? printTree(t.root) : t);

type NumNode = Extract<JNode, { t: 'num' }>;
type ObjNode = Extract<JNode, { t: 'obj' }>;
type ArrNode = Extract<JNode, { t: 'arr' }>;

/** Tree mutations and their weights: numbers are what packs switch on most, so they come up most. */
const TREE_OPS = [
  ['message', 1],
  ['rename', 1],
  ['add-port', 1],
  ['number', 3],
  ['string', 1.5],
  ['nest', 1],
  ['nest-bytes', 2.5],
  ['splice', 1],
  ['delete', 1],
  ['literal', 0.5],
] as const;
type TreeOp = (typeof TREE_OPS)[number][0];
const TREE_WEIGHT = TREE_OPS.reduce((s, [, w]) => s + w, 0);

export class Mutator {
  private readonly messageTrees: JNode[];

  constructor(
    private readonly rand: () => number,
    private readonly src: MutatorSources,
  ) {
    this.messageTrees = src.messages.map((m) => parseTree(m)).filter((n): n is JNode => n !== null);
  }

  private below(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }

  /** A child of `parent`: 1 to 4 stacked mutations, structural ones first. */
  mutate(parent: FuzzInput, corpus: readonly FuzzInput[]): FuzzInput {
    const work: Tick[] = [...parent.ticks];
    // Mostly one mutation: stacking breaks as much as it finds.
    const n = this.rand() < 0.5 ? 1 : 2 + this.below(3);
    for (let k = 0; k < n; k++) {
      const r = this.rand();
      if (r < 0.2 || work.length === 0) this.mutateTicks(work, parent.template, corpus);
      else if (r < 0.85) {
        const i = this.below(work.length);
        const d = this.draftOf(work[i]!);
        if (d && this.mutateTree(d.root, corpus)) work[i] = d;
        else work[i] = this.mutateBytes(settle(work[i]!));
      } else {
        const i = this.below(work.length);
        work[i] = this.mutateBytes(settle(work[i]!));
      }
    }
    const ticks = work.map(settle);
    // Inputs that only grow drift away from what a pack switches on: a child past the cap starts over.
    if (ticks.some((p) => (typeof p === 'string' ? p.length : p.hex.length / 2) > MAX_TICK_BYTES)) return { template: parent.template, ticks: [this.freshPayload(parent.template)] };
    return { template: parent.template, ticks };
  }

  private draftOf(t: Tick): Draft | null {
    if (isDraft(t)) return t;
    if (typeof t !== 'string') return null;
    const root = parseTree(t);
    return root ? { root } : null;
  }

  /** A payload for one of the template's ports: `{"input": {port: Message}}`. */
  freshPayload(template: string): string {
    const ports = this.src.templates.find((t) => t.name === template)?.inports ?? [];
    const port = ports.length && this.rand() < 0.8 ? this.pick(ports) : this.portName();
    const msg = this.messageTrees.length ? printTree(this.pick(this.messageTrees)) : '{"type":"Flow"}';
    return `{"input":{${JSON.stringify(port)}:${msg}}}`;
  }

  private portName(): string {
    const r = this.rand();
    const ports = this.src.templates.flatMap((t) => t.inports);
    if (r < 0.5 && this.src.strings.size) return this.src.strings.pick(this.rand)!;
    if (r < 0.65 && this.src.cmpStrings.size) return this.src.cmpStrings.pick(this.rand)!;
    if (r < 0.9 && ports.length) return this.pick(ports);
    return this.pick(['in', 'x', '', 'port', '\u00e9\u20ac']);
  }

  private mutateTicks(t: Tick[], template: string, corpus: readonly FuzzInput[]): void {
    const r = this.below(7);
    if (r === 0 || t.length === 0) t.splice(this.below(t.length + 1), 0, this.freshPayload(template));
    else if (r === 1 && t.length < 16) t.splice(this.below(t.length + 1), 0, settle(t[this.below(t.length)]!));
    else if (r === 2 && t.length > 1) t.splice(this.below(t.length), 1);
    else if (r === 3 && t.length > 1) {
      const a = this.below(t.length);
      const b = this.below(t.length);
      [t[a], t[b]] = [t[b]!, t[a]!];
    } else if (r >= 5 && t.length < 16) this.extend(t, corpus);
    else {
      const others = corpus.filter((c) => c.template === template);
      const other = others.length ? this.pick(others).ticks : t.map(settle);
      const from = this.below(other.length + 1);
      const keep = this.below(t.length + 1);
      t.splice(keep, t.length - keep, ...other.slice(from, from + 16 - keep));
    }
  }

  /**
   * The next step of a stateful sequence: a copy of the last tick, appended,
   * with one of its values changed (a number mostly: the value a state
   * machine waits for next). A plain copy would repeat what the instance
   * has already seen.
   */
  private extend(t: Tick[], corpus: readonly FuzzInput[]): void {
    const last = t.at(-1)!;
    const copy = isDraft(last) ? { root: clone(last.root) } : this.draftOf(last);
    if (!copy) {
      t.push(this.mutateBytes(last as Payload));
      return;
    }
    const nums = slotsOf(copy.root).filter((x) => x.node.t === 'num');
    if (nums.length && this.rand() < 0.8) {
      const x = this.pick(nums).node as NumNode;
      x.raw = this.numberStep(x.raw, nums.map((s) => (s.node as NumNode).raw));
    } else this.mutateTree(copy.root, corpus);
    t.push(copy);
  }

  /** The integer stages of AFL and libFuzzer on one number's text (`siblings`: the numbers of the same payload). */
  private numberStep(old: string, siblings: readonly string[]): string {
    const r = this.rand();
    const integer = INTEGER_TEXT.test(old);
    if (r < 0.25 && integer) {
      const step = BigInt(1 + this.below(ARITH_MAX));
      return (this.rand() < 0.5 ? BigInt(old) - step : BigInt(old) + step).toString();
    }
    if (r < 0.45) return this.pick(INTERESTING);
    // Any value as wide as the old one (AFL havoc's random byte, for a field of decimal digits).
    if (r < 0.55 && integer) return this.sameWidth(old);
    // Copied from elsewhere in the payload: byte arrays repeat their brackets and quotes.
    if (r < 0.7) return this.pick(siblings);
    // The dictionary (the module's constants, CmpLog's operands) and JSON's numeric edges.
    return this.numberText();
  }

  private sameWidth(old: string): string {
    const neg = old.startsWith('-');
    const width = old.length - (neg ? 1 : 0);
    let digits = width === 1 ? String(this.below(10)) : String(1 + this.below(9));
    while (digits.length < width) digits += String(this.below(10));
    return neg && digits !== '0' ? `-${digits}` : digits;
  }

  /**
   * Every value the deterministic stage gives a number: arithmetic steps,
   * interesting values, the dictionary's integers (AFL's extras stage: the
   * first STAGE_DICT of them) and the whole range of a one- or two-digit field.
   */
  private stageValues(old: string): string[] {
    const out = new Set<string>(INTERESTING);
    for (const v of this.src.ints.values().slice(0, STAGE_DICT)) out.add(v.toString());
    if (INTEGER_TEXT.test(old)) {
      const v = BigInt(old);
      for (let d = 1n; d <= BigInt(ARITH_MAX); d++) out.add((v + d).toString()).add((v - d).toString());
      const width = old.length - (old.startsWith('-') ? 1 : 0);
      if (width <= 2) for (let x = width === 1 ? 0 : 10; x < 10 ** width; x++) out.add(old.startsWith('-') && x ? `-${x}` : String(x));
    }
    out.delete(old);
    return [...out];
  }

  /**
   * AFL's deterministic stage, for a new corpus entry, where a tick
   * sequence grows: a few numbers of its last tick each set to every
   * stageValues value, once in place and once in a copy of that tick
   * appended (the next step of a state machine is the same Message with
   * another value). Lazy: the campaign draws children as it has room.
   */
  *stage(input: FuzzInput): Generator<FuzzInput> {
    const last = input.ticks.at(-1);
    const root = typeof last === 'string' ? parseTree(last) : null;
    if (!root) return;
    // Values, not the bytes of encoded data: a byte set to 91 or 123 deepens a text as nest-bytes
    // does, but leaves it no longer JSON; and an array of bytes would take hundreds of steps.
    const slots = slotsOf(root);
    const inBytes = new Set(slots.filter((x) => isByteArray(x.node)).flatMap((x) => (x.node as ArrNode).items));
    const nums = slots.filter((x) => x.node.t === 'num' && !inBytes.has(x.node));
    const prefixes = [input.ticks.slice(0, -1)];
    if (input.ticks.length < STAGE_MAX_TICKS) prefixes.push(input.ticks);
    for (let k = 0; k < STAGE_SLOTS && nums.length; k++) {
      const node = nums.splice(this.below(nums.length), 1)[0]!.node as NumNode;
      const old = node.raw;
      for (const v of this.stageValues(old)) {
        node.raw = v;
        const text = printTree(root);
        for (const p of prefixes) yield { template: input.template, ticks: [...p, text] };
      }
      node.raw = old;
    }
  }

  private numberText(): string {
    const r = this.rand();
    const bag = r < 0.4 ? this.src.ints : this.src.cmpInts;
    if (r < 0.6 && bag.size) {
      const v = bag.pick(this.rand)!;
      // i32 constants are compared after a wrap: try the unsigned reading too.
      if (v < 0n && v >= -(2n ** 31n) && this.rand() < 0.5) return (v + 2n ** 32n).toString();
      return v.toString();
    }
    return this.pick(NUMERIC_EDGES);
  }

  private stringValue(): string {
    const r = this.rand();
    const bag = r < 0.4 ? this.src.strings : this.src.cmpStrings;
    return r < 0.6 && bag.size ? bag.pick(this.rand)! : this.pick(STRING_EDGES);
  }

  private treeOp(): TreeOp {
    let r = this.rand() * TREE_WEIGHT;
    for (const [op, w] of TREE_OPS) if ((r -= w) < 0) return op;
    return TREE_OPS[0][0];
  }

  /** One mutation of the tree in place; false when the drawn one does not apply (the caller mutates bytes instead). */
  private mutateTree(root: JNode, corpus: readonly FuzzInput[]): boolean {
    const slots = slotsOf(root);
    const s = this.pick(slots);
    const op = this.treeOp();
    // Members of "input" are ports: renaming them is what reaches a pack's port switch.
    const inputObj = root.t === 'obj' ? root.members.find(([k]) => k === 'input')?.[1] : undefined;
    const ports = slots.filter((x) => x.owner && 'obj' in x.owner && x.owner.obj === inputObj);
    const members = ports.length && this.rand() < 0.7 ? ports : slots.filter((x) => x.owner && 'obj' in x.owner);
    switch (op) {
      case 'message':
        if (!s.replace || !this.messageTrees.length) return false;
        s.replace(clone(this.pick(this.messageTrees)));
        return true;
      case 'rename': {
        // Rename a member: port names, dictionary strings.
        if (!members.length) return false;
        const m = this.pick(members).owner as { obj: ObjNode; index: number };
        m.obj.members[m.index]![0] = this.rand() < 0.5 ? this.portName() : this.stringValue();
        return true;
      }
      case 'add-port': {
        const target = inputObj?.t === 'obj' ? inputObj : root.t === 'obj' ? root : null;
        if (!target || !this.messageTrees.length) return false;
        target.members.push([this.portName(), clone(this.pick(this.messageTrees))]);
        return true;
      }
      case 'number': {
        const nums = slots.filter((x) => x.node.t === 'num');
        if (!nums.length) return false;
        const slot = this.pick(nums);
        // A byte of encoded JSON text: mostly the text is mutated as a tree (it stays JSON, as a
        // pack's decoder wants it), sometimes the byte itself (the decoder's error paths).
        const owner = slot.owner && 'arr' in slot.owner ? slot.owner.arr : null;
        if (owner && this.rand() < 0.9 && isByteArray(owner) && this.mutateEncoded(owner, corpus)) return true;
        const x = slot.node as NumNode;
        x.raw = this.numberStep(x.raw, nums.map((y) => (y.node as NumNode).raw));
        return true;
      }
      case 'string': {
        const strs = slots.filter((x) => x.node.t === 'str' && x.replace);
        if (!strs.length) return false;
        const x = this.pick(strs);
        const old = (x.node as { v: string }).v;
        const r = this.rand();
        x.replace!({ t: 'str', v: r < 0.6 ? this.stringValue() : r < 0.8 ? old.slice(0, this.below(old.length + 1)) : old + old });
        return true;
      }
      case 'nest-bytes': {
        // Nesting inside encoded data: Object and Array Messages carry JSON text as a byte array,
        // which a pack decodes. One level deeper is "[" … "]" or {"k": … } around the text; an
        // already nested text wrapped again goes one level deeper still.
        const arrays = slots.filter((x) => isByteArray(x.node));
        if (!arrays.length) return false;
        const bytes = this.pick(arrays).node as ArrNode;
        const num = (c: number): JNode => ({ t: 'num', raw: String(c) });
        const [open, close] = this.rand() < 0.7 ? [[0x5b], [0x5d]] : [[0x7b, 0x22, 0x6b, 0x22, 0x3a], [0x7d]];
        bytes.items = [...open.map(num), ...bytes.items, ...close.map(num)];
        return true;
      }
      case 'nest': {
        // Nesting: one level deeper, as an array, an Array Message or a struct.
        if (!s.replace) return false;
        const r = this.below(3);
        const inner = s.node;
        s.replace(r === 0 ? { t: 'arr', items: [inner] } : r === 1 ? { t: 'obj', members: [['type', { t: 'str', v: 'Array' }], ['data', { t: 'arr', items: [inner] }]] } : { t: 'obj', members: [['data', inner]] });
        return true;
      }
      case 'splice': {
        // Splice: a subtree of another corpus payload.
        if (!s.replace || !corpus.length) return false;
        const other = this.pick(corpus).ticks.filter((x): x is string => typeof x === 'string');
        const tree = other.length ? parseTree(this.pick(other)) : null;
        if (!tree) return false;
        s.replace(this.pick(slotsOf(tree)).node);
        return true;
      }
      case 'delete':
        if (!s.owner) return false;
        if ('obj' in s.owner) s.owner.obj.members.splice(s.owner.index, 1);
        else s.owner.arr.items.splice(s.owner.index, 1);
        return true;
      case 'literal': {
        if (!s.replace) return false;
        const lits: JNode[] = [{ t: 'lit', raw: 'null' }, { t: 'lit', raw: 'true' }, { t: 'lit', raw: 'false' }, { t: 'obj', members: [] }, { t: 'arr', items: [] }, { t: 'num', raw: this.numberText() }, { t: 'str', v: this.stringValue() }];
        s.replace(this.pick(lits));
        return true;
      }
    }
  }

  /** The JSON text a byte array encodes, mutated as a tree and encoded again; false when it is not JSON. */
  private mutateEncoded(bytes: ArrNode, corpus: readonly FuzzInput[]): boolean {
    let text: string;
    try {
      text = STRICT_UTF8.decode(Uint8Array.from(bytes.items, (i) => Number((i as NumNode).raw)));
    } catch {
      return false;
    }
    const inner = parseTree(text);
    if (!inner || !this.mutateTree(inner, corpus)) return false;
    bytes.items = Array.from(UTF8.encode(printTree(inner)), (b): JNode => ({ t: 'num', raw: String(b) }));
    return true;
  }

  mutateBytes(p: Payload): Payload {
    let b = Array.from(payloadBytes(p));
    const op = this.below(7);
    const at = this.below(b.length + 1);
    if (op === 0 && b.length) b[Math.min(at, b.length - 1)]! ^= 1 << this.below(8);
    else if (op === 1 && b.length) b[Math.min(at, b.length - 1)] = this.pick(INTERESTING_BYTES);
    else if (op === 2) b.splice(at, 0, ...this.pick(INVALID_UTF8));
    else if (op === 3 && b.length) b.splice(at, 1 + this.below(Math.min(16, b.length - at + 1)));
    else if (op === 4 && b.length) b = b.slice(0, at);
    else if (op === 5 && this.src.strings.size) b.splice(at, 0, ...Buffer.from(this.src.strings.pick(this.rand)!));
    else if (b.length) {
      const from = this.below(b.length);
      b.splice(at, 0, ...b.slice(from, from + 1 + this.below(16)));
    }
    return payloadOf(Uint8Array.from(b.slice(0, 1 << 16)));
  }
}
