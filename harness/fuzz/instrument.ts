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
// drain call after each input, or only zeroed when the instance finds
// nothing new in them (see drain()).
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
/** `seen(edge)`: the bucket bits the harness has seen on an edge (`__packcheck_learn` asks it for each edge). */
export const SEEN_IMPORT = { module: '__packcheck_seen', name: 'get' } as const;
/** `cmpdiff(site, a, b)`: called by `__packcheck_cmp_diffs` for each CmpLog site whose operands differ (a module name of its own, as above). */
export const CMPDIFF_IMPORT = { module: '__packcheck_cmpd', name: 'diff' } as const;
const EDGE = '__pc_e';
/** Per edge: the bucket bits this instance's drains reported (see drain()). */
const SEEN = '__pc_s';
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
  /** Each defined function's edges: a contiguous range whose last edge is its entry. */
  private readonly functionEdges: { first: number; entry: number }[] = [];
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
    if (this.opts.cmplog) {
      m.addFunctionImport('__pc_cmpcall', CMPCALL_IMPORT.module, CMPCALL_IMPORT.name, b.createType([b.i32, b.i32, b.i32]), b.none);
      m.addFunctionImport('__pc_cmpdiff', CMPDIFF_IMPORT.module, CMPDIFF_IMPORT.name, b.createType([b.i32, b.i64, b.i64]), b.none);
    }
    m.addFunctionImport('__pc_hit', HIT_IMPORT.module, HIT_IMPORT.name, b.createType([b.i32, b.i32]), b.none);
    m.addFunctionImport('__pc_seen', SEEN_IMPORT.module, SEEN_IMPORT.name, b.i32, b.i32);
    for (const f of defined) {
      this.func = f;
      this.scratch = new Map();
      const first = this.edges;
      const body = b.Function.getBody(f);
      const walked = this.walk(body);
      const results = b.getFunctionInfo(f).results;
      const entry = this.edges; // numbered last: the function's edges are [first, entry]
      b.Function.setBody(f, m.block(null, [this.bump(), walked], results));
      this.functionEdges.push({ first, entry });
    }
    for (let i = 0; i < this.edges; i++) m.addGlobal(`${EDGE}${i}`, b.i32, true, m.i32.const(0));
    const cmpGlobals: { name: string; wide: boolean }[] = [];
    this.cmpSites.forEach((s, i) => {
      for (const g of [CMP_A, CMP_B]) {
        m.addGlobal(`${g}${i}`, s.wide ? b.i64 : b.i32, true, s.wide ? m.i64.const(0n as unknown as number) : m.i32.const(0));
        cmpGlobals.push({ name: `${g}${i}`, wide: s.wide });
      }
    });
    if (this.opts.cmplog) this.cmpDiffs();
    this.drain();
    this.zeroing(RESET_CMP, cmpGlobals);
    if (!m.validate()) throw new Error('the instrumented module does not validate (a binaryen limitation on this pack)');
    return { bytes: m.emitBinary(), cmplogBytes: null, edges: this.edges, cmpSites: this.cmpSites, dictionary: { strings: this.dataStrings(), ints: [...this.ints] } };
  }

  /**
   * Persistent mode (one instance runs many inputs): `__packcheck_drain()`
   * calls the `hit` import once for each counter that is not zero and sets
   * it back to 0, so reading and resetting cost one call per edge the input
   * reached (a few hundred) instead of one per edge of the module, and the
   * scan itself is straight-line wasm. Every scan skips each function whose
   * entry counter is 0: no edge inside a function is reached without
   * entering it (the Rust reference pack: 4,500 edges in 230 functions).
   * Edges are still reported in ascending order, so the traces are the
   * same as a full scan's. (An entry counter that wrapped to exactly 2^32
   * calls would hide its function's edges from one scan: beyond what the
   * watchdog lets an input run.)
   *
   * Most inputs reach nothing new, and for them even one import call per
   * edge reached was most of the drain (724 calls an input on the Rust
   * pack). So the instance keeps, in globals of its own, the bucket bits
   * each edge reported through a drain (`seen`), and `__packcheck_novel()`
   * answers, with no call out of wasm, whether any counter's bucket has a
   * bit outside them; when none has, `__packcheck_zero()` resets the
   * counters and the input's trace is never read. The instance's `seen` is
   * a subset of the harness's (it starts as a copy of the harness's,
   * `__packcheck_learn`, and the harness saw every drain since), so an input
   * it calls old is old for the harness too; one it calls new is drained and
   * the harness decides.
   */
  private drain(): void {
    const { b, m } = this;
    const count = (i: number) => m.global.get(`${EDGE}${i}`, b.i32);
    const seen = (i: number) => m.global.get(`${SEEN}${i}`, b.i32);
    /** Local 0 of the scanning functions: the counter just read (one global read an edge). */
    const c = () => m.local.get(0, b.i32);
    /** `scan(per edge)`: each edge of each entered function, its counter in local 0. */
    const scan = (perEdge: (i: number) => Ref, onlyReached = true): Ref =>
      m.block(
        null,
        this.functionEdges.map(({ first, entry }) => {
          const inner: Ref[] = [];
          for (let i = first; i <= entry; i++) inner.push(onlyReached ? m.if(m.local.tee(0, count(i), b.i32), perEdge(i)) : perEdge(i));
          return m.if(count(entry), m.block(null, inner, b.none));
        }),
        b.none,
      );
    for (let i = 0; i < this.edges; i++) m.addGlobal(`${SEEN}${i}`, b.i32, true, m.i32.const(0));
    // AFL's buckets (coverage.ts's bucket()) of local 0, inline, with no branch: 1 and 2 are themselves, 3-31 the
    // power of two above the highest bit (3 → 4, 4-7 → 8, 8-15 → 16, 16-31 → 32), 32-127 64, 128 and more 128.
    const bucket = (): Ref => {
      const pow2Above = m.i32.shl(m.i32.const(1), m.i32.sub(m.i32.const(32), m.i32.clz(c())));
      return m.select(m.i32.ge_u(c(), m.i32.const(128)), m.i32.const(128), m.select(m.i32.ge_u(c(), m.i32.const(32)), m.i32.const(64), m.select(m.i32.le_u(c(), m.i32.const(2)), c(), pow2Above)));
    };
    const report = (i: number) => m.block(null, [m.call('__pc_hit', [m.i32.const(i), c()], b.none), m.global.set(`${SEEN}${i}`, m.i32.or(seen(i), bucket())), m.global.set(`${EDGE}${i}`, m.i32.const(0))], b.none);
    m.addFunction(DRAIN, b.none, b.none, [b.i32], scan(report));
    m.addFunctionExport(DRAIN, DRAIN);
    const novelBit = (i: number) => m.if(m.i32.and(bucket(), m.i32.xor(seen(i), m.i32.const(-1))), m.return(m.i32.const(1)));
    m.addFunction(NOVEL, b.none, b.i32, [b.i32], m.block(null, [scan(novelBit), m.i32.const(0)], b.i32));
    m.addFunctionExport(NOVEL, NOVEL);
    // Zeroing needs no test: every counter of an entered function is set to 0.
    m.addFunction(ZERO, b.none, b.none, [b.i32], scan((i) => m.global.set(`${EDGE}${i}`, m.i32.const(0)), false));
    m.addFunctionExport(ZERO, ZERO);
    // A fresh instance starts from what the harness has seen, not from nothing (else it would call most inputs new
    // until it had drained each bucket itself): one import call an edge, once per instance.
    const learn: Ref[] = [];
    for (let i = 0; i < this.edges; i++) learn.push(m.global.set(`${SEEN}${i}`, m.call('__pc_seen', [m.i32.const(i)], b.i32)));
    m.addFunction(LEARN, b.none, b.none, [], m.block(null, learn, b.none));
    m.addFunctionExport(LEARN, LEARN);
  }

  /**
   * CmpLog's `__packcheck_cmp_diffs()`: calls the `cmpdiff` import with each
   * site whose two operands differ, in site order, as i64 (i32 operands
   * sign-extended). After an input most sites hold equal operands (never
   * reached: both 0); the harness used to read every site through an
   * exported br_table reader, two calls and two BigInts per site (969 sites
   * on the Rust reference pack, about 100 µs per CmpLog run).
   */
  private cmpDiffs(): void {
    const { b, m } = this;
    const body = this.cmpSites.map((site, i) => {
      const t = site.wide ? b.i64 : b.i32;
      const [x, y] = [CMP_A, CMP_B].map((g) => m.global.get(`${g}${i}`, t));
      const wide = (g: string) => (site.wide ? m.global.get(`${g}${i}`, t) : m.i64.extend_s(m.global.get(`${g}${i}`, t)));
      return m.if(site.wide ? m.i64.ne(x, y) : m.i32.ne(x, y), m.call('__pc_cmpdiff', [m.i32.const(i), wide(CMP_A), wide(CMP_B)], b.none));
    });
    m.addFunction(CMP_DIFFS, b.none, b.none, [], m.block(null, body, b.none));
    m.addFunctionExport(CMP_DIFFS, CMP_DIFFS);
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

/** Exported: report every moved counter through `hit` and zero it; zero CmpLog's operands. */
export const DRAIN = '__packcheck_drain';
/** Exported: 1 when some counter's bucket has a bit the instance's drains have not reported, else 0 (no side effect). */
export const NOVEL = '__packcheck_novel';
/** Exported: zero every counter without reporting any. */
export const ZERO = '__packcheck_zero';
/** Exported: set the instance's seen bits of every edge to the harness's (the `seen` import). */
export const LEARN = '__packcheck_learn';
export const RESET_CMP = '__packcheck_reset_cmp';
/** Exported by the CmpLog build: report each site whose operands differ through `cmpdiff`. */
export const CMP_DIFFS = '__packcheck_cmp_diffs';
