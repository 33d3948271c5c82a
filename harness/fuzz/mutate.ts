// Mutation of fuzz inputs: structure first (ticks, then the JSON tree of a
// payload: Messages of every variant, port names, dictionary tokens,
// numeric edges, splicing, nesting), bytes second (the JSON text bit by bit,
// so invalid UTF-8 and invalid JSON paths are reached too).
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
    const child: FuzzInput = { template: parent.template, ticks: [...parent.ticks] };
    // Mostly one mutation: stacking breaks as much as it finds.
    const n = this.rand() < 0.5 ? 1 : 2 + this.below(3);
    for (let k = 0; k < n; k++) {
      const r = this.rand();
      if (r < 0.15 || child.ticks.length === 0) this.mutateTicks(child, corpus);
      else if (r < 0.85) {
        const i = this.below(child.ticks.length);
        child.ticks[i] = this.mutateTree(child.ticks[i]!, corpus) ?? this.mutateBytes(child.ticks[i]!);
      } else {
        const i = this.below(child.ticks.length);
        child.ticks[i] = this.mutateBytes(child.ticks[i]!);
      }
    }
    // Inputs that only grow drift away from what a pack switches on: a child past the cap starts over.
    if (child.ticks.some((p) => (typeof p === 'string' ? p.length : p.hex.length / 2) > MAX_TICK_BYTES)) return { template: parent.template, ticks: [this.freshPayload(parent.template)] };
    return child;
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

  private mutateTicks(child: FuzzInput, corpus: readonly FuzzInput[]): void {
    const t = child.ticks;
    const r = this.below(5);
    if (r === 0 || t.length === 0) t.splice(this.below(t.length + 1), 0, this.freshPayload(child.template));
    else if (r === 1 && t.length < 16) t.splice(this.below(t.length + 1), 0, t[this.below(t.length)]!);
    else if (r === 2 && t.length > 1) t.splice(this.below(t.length), 1);
    else if (r === 3 && t.length > 1) {
      const a = this.below(t.length);
      const b = this.below(t.length);
      [t[a], t[b]] = [t[b]!, t[a]!];
    } else {
      const other = this.pick(corpus.filter((c) => c.template === child.template).concat([child]));
      const from = this.below(other.ticks.length + 1);
      const keep = this.below(t.length + 1);
      child.ticks = t.slice(0, keep).concat(other.ticks.slice(from)).slice(0, 16);
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

  private mutateTree(p: Payload, corpus: readonly FuzzInput[]): Payload | null {
    if (typeof p !== 'string') return null;
    const root = parseTree(p);
    if (!root) return null;
    const slots = slotsOf(root);
    const s = this.pick(slots);
    const op = this.below(9);
    // Members of "input" are ports: renaming them is what reaches a pack's port switch.
    const inputObj = root.t === 'obj' ? root.members.find(([k]) => k === 'input')?.[1] : undefined;
    const ports = slots.filter((x) => x.owner && 'obj' in x.owner && x.owner.obj === inputObj);
    const members = ports.length && this.rand() < 0.7 ? ports : slots.filter((x) => x.owner && 'obj' in x.owner);
    if (op === 0 && s.replace && this.messageTrees.length) s.replace(clone(this.pick(this.messageTrees)));
    else if (op === 1 && members.length) {
      // Rename a member: port names, dictionary strings.
      const m = this.pick(members).owner as { obj: Extract<JNode, { t: 'obj' }>; index: number };
      m.obj.members[m.index]![0] = this.rand() < 0.5 ? this.portName() : this.stringValue();
    } else if (op === 2) {
      const input = root.t === 'obj' ? root.members.find(([k]) => k === 'input')?.[1] : undefined;
      const target = input?.t === 'obj' ? input : root.t === 'obj' ? root : null;
      if (!target || !this.messageTrees.length) return null;
      target.members.push([this.portName(), clone(this.pick(this.messageTrees))]);
    } else if (op === 3) {
      const nums = slots.filter((x) => x.node.t === 'num' && x.replace);
      if (!nums.length) return null;
      const x = this.pick(nums);
      const old = (x.node as { raw: string }).raw;
      const r = this.rand();
      // AFL's and libFuzzer's integer stages: a value copied from elsewhere in the same payload
      // (bytes arrays repeat their brackets and quotes), a small step up or down, or an edge value.
      let raw: string;
      if (r < 0.3) raw = (this.pick(nums).node as { raw: string }).raw;
      else if (r < 0.6 && /^-?\d{1,15}$/.test(old)) raw = String(Number(old) + (this.rand() < 0.5 ? -1 : 1) * (1 + this.below(16)));
      else raw = this.numberText();
      x.replace!({ t: 'num', raw });
    } else if (op === 4) {
      const strs = slots.filter((x) => x.node.t === 'str' && x.replace);
      if (!strs.length) return null;
      const x = this.pick(strs);
      const old = (x.node as { v: string }).v;
      const r = this.rand();
      x.replace!({ t: 'str', v: r < 0.6 ? this.stringValue() : r < 0.8 ? old.slice(0, this.below(old.length + 1)) : old + old });
    } else if (op === 5 && this.rand() < 0.25 && slots.some((x) => isByteArray(x.node))) {
      // Nesting inside encoded data: Object and Array Messages carry JSON text as a byte array,
      // which a pack decodes; one level deeper there is "[" before the bytes and "]" after.
      const bytes = this.pick(slots.filter((x) => isByteArray(x.node))).node as Extract<JNode, { t: 'arr' }>;
      // An array around a JSON value is JSON again ("{" would need a key).
      bytes.items = [{ t: 'num', raw: '91' }, ...bytes.items, { t: 'num', raw: '93' }];
    } else if (op === 5 && s.replace) {
      // Nesting: one level deeper, as an array, an Array Message or a struct.
      const r = this.below(3);
      const inner = clone(s.node);
      s.replace(r === 0 ? { t: 'arr', items: [inner] } : r === 1 ? { t: 'obj', members: [['type', { t: 'str', v: 'Array' }], ['data', { t: 'arr', items: [inner] }]] } : { t: 'obj', members: [['data', inner]] });
    } else if (op === 6 && s.replace) {
      // Splice: a subtree of another corpus payload.
      const other = this.pick(corpus).ticks.filter((x): x is string => typeof x === 'string');
      const tree = other.length ? parseTree(this.pick(other)) : null;
      if (!tree) return null;
      s.replace(clone(this.pick(slotsOf(tree)).node));
    } else if (op === 7 && s.owner) {
      if ('obj' in s.owner) s.owner.obj.members.splice(s.owner.index, 1);
      else s.owner.arr.items.splice(s.owner.index, 1);
    } else if (op === 8 && s.replace) {
      const lits: JNode[] = [{ t: 'lit', raw: 'null' }, { t: 'lit', raw: 'true' }, { t: 'lit', raw: 'false' }, { t: 'obj', members: [] }, { t: 'arr', items: [] }, { t: 'num', raw: this.numberText() }, { t: 'str', v: this.stringValue() }];
      s.replace(this.pick(lits));
    } else return null;
    return printTree(root);
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
