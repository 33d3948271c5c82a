// Coverage instrumentation of a wasm pack with binaryen.js, loaded only by
// the fuzz command (binaryen is 10 MB of JavaScript: --help, --version and
// the plain battery never import it).
//
// Every edge bumps an i32 counter: function entry, both arms of every `if`
// (an empty else arm is added for a statement `if`), every loop iteration,
// the code after every named block (reached by falling through or by a
// branch to it, so br/br_table targets count), and the two outcomes of a
// value-less `br_if` (rewritten as `if (cond) {bump; br} bump`).
//
// Where the counters live: in mutable globals, which the pack's own code
// cannot address (wasm has no pointer to a global), while pages in its
// single linear memory (Node 20 has no multi-memory) would be within reach of
// a wild store, and reserving them changes what memory.size and the
// allocator see. The harness first read them through one exported function
// (`__packcheck_edge(i)`, a br_table over the globals). Measured on the WAT
// reference pack (552 edges, 185 compare sites, one fresh instance per
// input): exporting every global instead made each instantiation build a
// wrapper object per global, 0.8 ms per input against 0.1 ms; with the
// reader, a two-tick input costs about 0.19 ms instrumented against 0.24 ms
// uninstrumented (the same, within noise). Since one instance now runs many
// inputs (persistent mode, judge.ts), the counters are read and zeroed by one
// drain call after each input (see drain()).
//
// CmpLog (optional): each integer comparison whose operands are not both
// constants records its two operands in a pair of globals of the operand
// type, and each call of an (i32, i32, i32) -> i32 function whose arguments
// are plain locals or constants (memcmp, bcmp and their kin: packed strings
// have no separator, so the compared bytes are the dictionary) first calls
// the import `__packcheck.cmpcall(a, b, n)`, which the harness answers by
// reading the bytes at that moment. The static dictionary comes from the
// same walk: printable runs in data segments, and integer constants that a
// comparison or a br_table selector is made against.
import type { Dictionary } from './dictionary.ts';

// binaryen's bundled .d.ts lags its JavaScript (the expression classes such
// as Block and If, data segment readers): what it lacks is reached untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = Record<string, any>;
type B = typeof import('binaryen').default & Untyped;
type Module = InstanceType<typeof import('binaryen').default.Module> & Untyped;
type Ref = number;

export const CMPCALL_IMPORT = { module: '__packcheck', name: 'cmpcall' } as const;
/**
 * `hit(edge, count)`: called by the drain export for each counter that moved
 * since the last drain. A module name of its own: binaryen.js 132 writes a
 * broken import section (an empty field name, kind 0x7f) when two added
 * imports share one module name.
 */
export const HIT_IMPORT = { module: '__packcheck_cov', name: 'hit' } as const;
const EDGE = '__pc_e';
const CMP_A = '__pc_ca';
const CMP_B = '__pc_cb';

export interface CmpSite {
  /** Operand type of the comparison. */
  wide: boolean;
}

export interface Instrumented {
  /** Edge counters only: what most inputs run on. */
  bytes: Uint8Array;
  /**
   * The same edges (same numbering) and the CmpLog recording, or null with
   * CmpLog off. A module of its own, as AFL++ builds a CmpLog binary: the
   * recording doubles the cost of every comparison (measured on the WAT
   * reference pack: 120-200 µs per input against 76-90 µs without it), and
   * only the inputs run for CmpLog need it.
   */
  cmplogBytes: Uint8Array | null;
  edges: number;
  cmpSites: CmpSite[];
  /** Static dictionary: strings from data segments and compared constants. */
  dictionary: Dictionary;
}

export interface InstrumentOptions {
  cmplog: boolean;
}

let binaryenPromise: Promise<B> | null = null;
function loadBinaryen(): Promise<B> {
  binaryenPromise ??= import('binaryen').then((m) => m.default as B);
  return binaryenPromise;
}

/** Child expressions of the binaryen classes a pack built by rustc or wat2wasm contains; anything else is a leaf. */
const SINGLE_CHILDREN: Record<string, string[]> = {
  If: ['Condition', 'IfTrue', 'IfFalse'],
  Loop: ['Body'],
  Break: ['Condition', 'Value'],
  Switch: ['Condition', 'Value'],
  CallIndirect: ['Target'],
  LocalSet: ['Value'],
  GlobalSet: ['Value'],
  Load: ['Ptr'],
  Store: ['Ptr', 'Value'],
  Unary: ['Value'],
  Binary: ['Left', 'Right'],
  Select: ['IfTrue', 'IfFalse', 'Condition'],
  Drop: ['Value'],
  Return: ['Value'],
  MemoryGrow: ['Delta'],
  MemoryCopy: ['Dest', 'Source', 'Size'],
  MemoryFill: ['Dest', 'Value', 'Size'],
  MemoryInit: ['Dest', 'Offset', 'Size'],
};

export async function instrumentPack(bytes: Uint8Array, opts: InstrumentOptions): Promise<Instrumented> {
  const b = await loadBinaryen();
  const once = (cmplog: boolean) => {
    const m = b.readBinary(bytes);
    m.setFeatures(b.Features.All);
    try {
      return new Instrumenter(b, m, { cmplog }).run();
    } finally {
      m.dispose();
    }
  };
  const edges = once(false);
  if (!opts.cmplog) return edges;
  const withCmp = once(true);
  // The walk is the same; only comparisons gain recording, which adds no edge.
  if (withCmp.edges !== edges.edges) throw new Error(`the CmpLog build has ${withCmp.edges} edges, the edge build ${edges.edges}`);
  return { ...withCmp, bytes: edges.bytes, cmplogBytes: withCmp.bytes };
}

class Instrumenter {
  private edges = 0;
  private readonly cmpSites: CmpSite[] = [];
  private readonly ints = new Set<bigint>();
  private readonly classOf = new Map<number, string>();
  private readonly compareOps = new Map<number, { wide: boolean }>();
  private readonly memcmpLike = new Set<string>();
  /** Scratch locals of the function being walked, by type. */
  private scratch = new Map<number, number>();
  private func = 0;

  constructor(
    private readonly b: B,
    private readonly m: Module,
    private readonly opts: InstrumentOptions,
  ) {
    const bb = b as unknown as Record<string, unknown>;
    for (const name of Object.keys(SINGLE_CHILDREN).concat(['Block', 'Call', 'Const'])) this.classOf.set(bb[`${name}Id`] as number, name);
    for (const op of ['Eq', 'Ne', 'LtS', 'LtU', 'GtS', 'GtU', 'LeS', 'LeU', 'GeS', 'GeU']) {
      this.compareOps.set(bb[`${op}Int32`] as number, { wide: false });
      this.compareOps.set(bb[`${op}Int64`] as number, { wide: true });
    }
  }

  run(): Instrumented {
    const { b, m } = this;
    const defined: Ref[] = [];
    for (let i = 0; i < m.getNumFunctions(); i++) {
      const f = m.getFunctionByIndex(i);
      const info = b.getFunctionInfo(f);
      const params = b.expandType(info.params);
      const results = b.expandType(info.results);
      if (params.length === 3 && params.every((t) => t === b.i32) && results.length === 1 && results[0] === b.i32) this.memcmpLike.add(info.name);
      if (info.body) defined.push(f);
    }
    if (this.opts.cmplog) m.addFunctionImport('__pc_cmpcall', CMPCALL_IMPORT.module, CMPCALL_IMPORT.name, b.createType([b.i32, b.i32, b.i32]), b.none);
    m.addFunctionImport('__pc_hit', HIT_IMPORT.module, HIT_IMPORT.name, b.createType([b.i32, b.i32]), b.none);
    for (const f of defined) {
      this.func = f;
      this.scratch = new Map();
      const body = b.Function.getBody(f);
      const walked = this.walk(body);
      const results = b.getFunctionInfo(f).results;
      b.Function.setBody(f, m.block(null, [this.bump(), walked], results));
    }
    for (let i = 0; i < this.edges; i++) m.addGlobal(`${EDGE}${i}`, b.i32, true, m.i32.const(0));
    const cmpGlobals: { name: string; wide: boolean }[] = [];
    this.cmpSites.forEach((s, i) => {
      for (const g of [CMP_A, CMP_B]) {
        m.addGlobal(`${g}${i}`, s.wide ? b.i64 : b.i32, true, s.wide ? m.i64.const(0n as unknown as number) : m.i32.const(0));
        cmpGlobals.push({ name: `${g}${i}`, wide: s.wide });
      }
    });
    this.reader(READ_CMP, cmpGlobals, b.i64);
    this.drain();
    this.zeroing(RESET_CMP, cmpGlobals);
    if (!m.validate()) throw new Error('the instrumented module does not validate (a binaryen limitation on this pack)');
    return { bytes: m.emitBinary(), cmplogBytes: null, edges: this.edges, cmpSites: this.cmpSites, dictionary: { strings: this.dataStrings(), ints: [...this.ints] } };
  }

  /**
   * An exported `(i32) -> T` that returns global number i (0 past the end),
   * through one br_table: the harness reads counters by calling it, so the
   * instance exports two functions instead of a thousand globals (each
   * exported global costs a wrapper object at every instantiation: 0.8 ms
   * per input on the reference pack, against 0.1 ms without).
   */
  private reader(name: string, globals: { name: string; wide: boolean }[], type: number): void {
    const { b, m } = this;
    const label = (k: number) => `__pc_r${k}`;
    let cur = m.block(label(0), [m.switch(globals.map((_, k) => label(k)), label(globals.length), m.local.get(0, b.i32))], b.none);
    globals.forEach((g, k) => {
      const get = m.global.get(g.name, g.wide ? b.i64 : b.i32);
      const value = type === b.i64 && !g.wide ? m.i64.extend_s(get) : get;
      cur = m.block(label(k + 1), [cur, m.return(value)], b.none);
    });
    m.addFunction(name, b.createType([b.i32]), type, [], m.block(null, [cur, type === b.i64 ? m.i64.const(0n as unknown as number) : m.i32.const(0)], type));
    m.addFunctionExport(name, name);
  }

  /**
   * Persistent mode (one instance runs many inputs): `__packcheck_drain()`
   * calls the `hit` import once for each counter that is not zero and sets
   * it back to 0, so reading and resetting cost one call per edge the input
   * reached (a few hundred) instead of one per edge of the module (4,500 on
   * the Rust reference pack), and the scan itself is straight-line wasm.
   */
  private drain(): void {
    const { b, m } = this;
    const body: Ref[] = [];
    for (let i = 0; i < this.edges; i++) {
      const g = `${EDGE}${i}`;
      body.push(m.if(m.global.get(g, b.i32), m.block(null, [m.call('__pc_hit', [m.i32.const(i), m.global.get(g, b.i32)], b.none), m.global.set(g, m.i32.const(0))], b.none)));
    }
    m.addFunction(DRAIN, b.none, b.none, [], m.block(null, body, b.none));
    m.addFunctionExport(DRAIN, DRAIN);
  }

  /** An export that sets the given globals to 0 (CmpLog's operands, before an input that records them). */
  private zeroing(name: string, globals: { name: string; wide: boolean }[]): void {
    const { b, m } = this;
    const body = globals.map((g) => m.global.set(g.name, g.wide ? m.i64.const(0n as unknown as number) : m.i32.const(0)));
    m.addFunction(name, b.none, b.none, [], m.block(null, body, b.none));
    m.addFunctionExport(name, name);
  }

  /** `global.set $e (global.get $e + 1)` for a new edge. */
  private bump(): Ref {
    const { b, m } = this;
    const name = `${EDGE}${this.edges++}`;
    return m.global.set(name, m.i32.add(m.global.get(name, b.i32), m.i32.const(1)));
  }

  private local(type: number): number {
    let i = this.scratch.get(type);
    if (i === undefined) {
      i = (this.b as unknown as { _BinaryenFunctionAddVar(f: number, t: number): number })._BinaryenFunctionAddVar(this.func, type);
      this.scratch.set(type, i);
    }
    return i;
  }

  /** Walks `e`, instrumenting inside it; returns the expression to put in its place. */
  private walk(e: Ref): Ref {
    if (!e) return e;
    const { b } = this;
    const id = b.getExpressionId(e);
    const cls = this.classOf.get(id);
    if (!cls) return e;
    const api = (b as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>)[cls]!;
    if (cls === 'Block') {
      const n = b.Block.getNumChildren(e);
      for (let i = 0; i < n; i++) b.Block.setChildAt(e, i, this.walk(b.Block.getChildAt(e, i)));
    } else if (cls === 'Call' || cls === 'CallIndirect') {
      const n = api.getNumOperands!(e) as number;
      for (let i = 0; i < n; i++) api.setOperandAt!(e, i, this.walk(api.getOperandAt!(e, i) as Ref));
    }
    for (const child of SINGLE_CHILDREN[cls] ?? []) {
      const c = api[`get${child}`]!(e) as Ref;
      if (c) api[`set${child}`]!(e, this.walk(c));
    }
    return this.edgesAt(cls, e);
  }

  private edgesAt(cls: string, e: Ref): Ref {
    const { b, m } = this;
    switch (cls) {
      case 'If': {
        const t = b.getExpressionType(e);
        const yes = b.If.getIfTrue(e);
        b.If.setIfTrue(e, m.block(null, [this.bump(), yes], b.getExpressionType(yes)));
        const no = b.If.getIfFalse(e);
        if (no) b.If.setIfFalse(e, m.block(null, [this.bump(), no], b.getExpressionType(no)));
        else if (t === b.none) b.If.setIfFalse(e, this.bump());
        return e;
      }
      case 'Loop': {
        const body = b.Loop.getBody(e);
        b.Loop.setBody(e, m.block(null, [this.bump(), body], b.getExpressionType(body)));
        return e;
      }
      case 'Block': {
        if (!b.Block.getName(e)) return e;
        const t = b.getExpressionType(e);
        if (t === b.none) return m.block(null, [e, this.bump()], b.none);
        if (t === b.unreachable || ![b.i32, b.i64, b.f32, b.f64].includes(t)) return e;
        const tmp = this.local(t);
        return m.block(null, [m.local.set(tmp, e), this.bump(), m.local.get(tmp, t)], t);
      }
      case 'Break': {
        const cond = b.Break.getCondition(e);
        if (!cond || b.Break.getValue(e)) return e;
        return m.block(null, [m.if(cond, m.block(null, [this.bump(), m.br(b.Break.getName(e))], b.none)), this.bump()], b.none);
      }
      case 'Switch': {
        this.switchConstants(e);
        return e;
      }
      case 'Binary':
        return this.compare(e);
      case 'Call':
        return this.cmpCall(e);
      default:
        return e;
    }
  }

  private constValue(e: Ref): bigint | null {
    const { b } = this;
    if (b.getExpressionId(e) !== b.ConstId) return null;
    const t = b.getExpressionType(e);
    if (t === b.i32) return BigInt(b.Const.getValueI32(e));
    if (t === b.i64) return BigInt.asIntN(64, BigInt(b.Const.getValueI64(e) as unknown as bigint));
    return null;
  }

  /** Records compared constants; with CmpLog, wraps each operand so its value lands in the site's global. */
  private compare(e: Ref): Ref {
    const { b, m } = this;
    const op = this.compareOps.get(b.Binary.getOp(e));
    if (!op) return e;
    const left = b.Binary.getLeft(e);
    const right = b.Binary.getRight(e);
    const lc = this.constValue(left);
    const rc = this.constValue(right);
    for (const c of [lc, rc]) if (c !== null) this.ints.add(c);
    if (!this.opts.cmplog || (lc !== null && rc !== null)) return e;
    const site = this.cmpSites.length;
    this.cmpSites.push({ wide: op.wide });
    const t = op.wide ? b.i64 : b.i32;
    const record = (operand: Ref, g: string): Ref => {
      const tmp = this.local(t);
      return m.block(null, [m.local.set(tmp, operand), m.global.set(`${g}${site}`, m.local.get(tmp, t)), m.local.get(tmp, t)], t);
    };
    b.Binary.setLeft(e, record(left, CMP_A));
    b.Binary.setRight(e, record(right, CMP_B));
    return e;
  }

  /** A br_table on `x - K` (or `x + K`) selects on x = K, K+1, …: those are worth trying. */
  private switchConstants(e: Ref): void {
    const { b } = this;
    const cond = b.Switch.getCondition(e);
    const n = b.Switch.getNumNames(e);
    let base = 0n;
    if (b.getExpressionId(cond) === b.BinaryId) {
      const k = this.constValue(b.Binary.getRight(cond));
      const op = b.Binary.getOp(cond);
      if (k !== null && op === b.SubInt32) base = k;
      if (k !== null && op === b.AddInt32) base = -k;
    }
    for (let i = 0; i < Math.min(n, 64); i++) this.ints.add(base + BigInt(i));
  }

  /** A call that may compare two byte ranges: report them (harness import) before the call itself. */
  private cmpCall(e: Ref): Ref {
    const { b, m } = this;
    if (!this.opts.cmplog || !this.memcmpLike.has(b.Call.getTarget(e))) return e;
    const args = [0, 1, 2].map((i) => b.Call.getOperandAt(e, i));
    const simple = (a: Ref) => [b.LocalGetId, b.ConstId, b.GlobalGetId].includes(b.getExpressionId(a));
    if (!args.every(simple)) return e;
    const copies = args.map((a) => m.copyExpression(a));
    return m.block(null, [m.call('__pc_cmpcall', copies, b.none), e], b.i32);
  }

  /** Printable ASCII runs (3..64 bytes) of the data segments. */
  private dataStrings(): string[] {
    const { m } = this;
    const out = new Set<string>();
    for (let i = 0; i < m.getNumDataSegments(); i++) {
      const seg = m.getDataSegmentByIndex(i) as unknown;
      const info = m.getDataSegmentInfo(seg as string) as unknown as { data: ArrayBuffer };
      const data = new Uint8Array(info.data);
      let start = -1;
      for (let j = 0; j <= data.length; j++) {
        const c = j < data.length ? data[j]! : 0;
        const printable = c >= 0x20 && c < 0x7f;
        if (printable && start < 0) start = j;
        if (!printable && start >= 0) {
          // Names a pack switches on are words: whole runs, and the word-like pieces of longer text.
          const run = String.fromCharCode(...data.subarray(start, Math.min(j, start + 64)));
          for (const word of [run, ...run.split(/[^\w.-]+/)]) if (/^[\w.-]{3,64}$/.test(word)) out.add(word);
          start = -1;
        }
      }
    }
    return [...out];
  }
}

/** Exported reader: CmpLog operand 2·site (left) or 2·site + 1 (right) as i64. */
export const READ_CMP = '__packcheck_cmp';
/** Exported: report every moved counter through `hit` and zero it; zero CmpLog's operands. */
export const DRAIN = '__packcheck_drain';
export const RESET_CMP = '__packcheck_reset_cmp';
