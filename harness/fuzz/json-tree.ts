// A JSON text as a tree the mutator can edit and print back: numbers keep
// their exact text (i64 beyond 2^53, `-0`, `1e3`), objects keep duplicate
// members and their order. Not a validator: text that does not parse gives
// null and is mutated as bytes instead.

export type JNode =
  | { t: 'obj'; members: [string, JNode][] }
  | { t: 'arr'; items: JNode[] }
  | { t: 'str'; v: string }
  | { t: 'num'; raw: string }
  | { t: 'lit'; raw: 'true' | 'false' | 'null' };

const MAX_DEPTH = 200;

/** STRING is sticky: it matches at `lastIndex` only, with no copy of the rest of the text to look at. */
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

export function parseTree(text: string): JNode | null {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const value = (depth: number): JNode | null => {
    if (depth > MAX_DEPTH) return null;
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, JNode][] = [];
      ws();
      if (text[i] === '}') return i++, { t: 'obj', members };
      for (;;) {
        ws();
        if (text[i] !== '"') return null;
        const k = str();
        if (k === null) return null;
        ws();
        if (text[i++] !== ':') return null;
        const v = value(depth + 1);
        if (!v) return null;
        members.push([k, v]);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, { t: 'obj', members };
        else return null;
      }
    }
    if (c === '[') {
      i++;
      const items: JNode[] = [];
      ws();
      if (text[i] === ']') return i++, { t: 'arr', items };
      for (;;) {
        const v = value(depth + 1);
        if (!v) return null;
        items.push(v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, { t: 'arr', items };
        else return null;
      }
    }
    if (c === '"') {
      const s = str();
      return s === null ? null : { t: 'str', v: s };
    }
    const m = NUMBER.exec(text.slice(i, i + 400)); // a window: a longer run of digits is cut at 400, and the rest does not parse
    if (m) return (i += m[0].length), { t: 'num', raw: m[0] };
    for (const raw of ['true', 'false', 'null'] as const) if (text.startsWith(raw, i)) return (i += raw.length), { t: 'lit', raw };
    return null;
  };
  const str = (): string | null => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) return null;
    const quoted = m[0];
    i += quoted.length;
    // No escape: the characters between the quotes are the string (JSON.parse would say the same, slower).
    return quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
  };
  const v = value(0);
  ws();
  return v && i === text.length ? v : null;
}

export function printTree(n: JNode): string {
  switch (n.t) {
    case 'obj':
      return `{${n.members.map(([k, v]) => `${JSON.stringify(k)}:${printTree(v)}`).join(',')}}`;
    case 'arr':
      return `[${n.items.map(printTree).join(',')}]`;
    case 'str':
      return JSON.stringify(n.v);
    case 'num':
    case 'lit':
      return n.raw;
  }
}

/** Every node with the function that replaces it in its parent (the root has none). */
export interface Slot {
  node: JNode;
  depth: number;
  replace?: (n: JNode) => void;
  /** The object holding it and its member index, for renames and deletions. */
  owner?: { obj: Extract<JNode, { t: 'obj' }>; index: number } | { arr: Extract<JNode, { t: 'arr' }>; index: number };
}

export function slotsOf(root: JNode, limit = 2000): Slot[] {
  const out: Slot[] = [{ node: root, depth: 0 }];
  for (let k = 0; k < out.length && out.length < limit; k++) {
    const { node, depth } = out[k]!;
    if (node.t === 'obj') node.members.forEach((m, index) => out.push({ node: m[1], depth: depth + 1, replace: (n) => (m[1] = n), owner: { obj: node, index } }));
    else if (node.t === 'arr') node.items.forEach((it, index) => out.push({ node: it, depth: depth + 1, replace: (n) => (node.items[index] = n), owner: { arr: node, index } }));
    void node;
  }
  return out;
}

/** A deep copy (by hand: structuredClone costs microseconds a call on these small trees). */
export function clone(n: JNode): JNode {
  switch (n.t) {
    case 'obj':
      return { t: 'obj', members: n.members.map(([k, v]): [string, JNode] => [k, clone(v)]) };
    case 'arr':
      return { t: 'arr', items: n.items.map(clone) };
    case 'str':
      return { t: 'str', v: n.v };
    case 'num':
      return { t: 'num', raw: n.raw };
    case 'lit':
      return { t: 'lit', raw: n.raw };
  }
}

/** Node count, to compare sizes while minimising. */
export function treeSize(n: JNode): number {
  if (n.t === 'obj') return 1 + n.members.reduce((s, [k, v]) => s + 1 + k.length / 8 + treeSize(v), 0);
  if (n.t === 'arr') return 1 + n.items.reduce((s, v) => s + treeSize(v), 0);
  if (n.t === 'str') return 1 + n.v.length / 8;
  return 1;
}
