// Probe packs: tiny wasm packs whose behaviour is scripted per scenario, used
// to test *hosts* (JS loaders of wasm packs). The harness hands a probe to a
// host and watches every call the host makes at the export boundary; the
// probe itself is deliberately simple and never traps on any input.
//
// See shared/ABI.md, "The wasm ABI" and "One tick".
//
// Memory layout of a probe:
//   0..63       never used (address 0 means "none"; out_ptr 16 of the
//               'overflow-len' scenario points in here)
//   64..        static data: template metadata, result pieces
//   heap        a bump allocator that never reuses memory. Every block is
//               8-aligned and owns PROBE_CANARY_BYTES of gap before and after
//               it that no other block (nor another block's gap) touches.
import { watToWasm } from './wat.ts';

export interface ProbeScenario {
  /** Template names registered in this order (duplicates allowed), each with inports ["in"] and outports ["out"]. */
  templates: string[];
  /** What run answers (default 'echo'). */
  result?: 'echo' | 'empty' | 'nonjson-error' | 'oob-ptr' | 'overflow-len' | 'nonjson-success' | 'json-nonobject';
  /** After the templates, one more registration (factory id = templates.length) with metadata of this kind. */
  badMetadata?: BadMetadata;
  /**
   * Memory above 2 GiB: the memory starts at PROBE_HIGH_PAGES pages (no growth,
   * so a host's stale views are not what this probe tests);
   * __reflow_pack_register copies the metadata to 2^31 + 64 and registers it there, and every
   * block and result is handed out from 2^31 + 65536 on. A reader that takes a
   * metadata pointer as signed i32 (a negative subarray start) finds, at the
   * address it wraps to, a decoy of the same length whose name is decoyName(name).
   */
  highMemory?: boolean;
  /** 1-based index, counted over ALL calls of the exported __reflow_pack_alloc, of the call that returns 0. */
  allocFailsAt?: number;
  /** __reflow_pack_create_actor always returns 0. */
  createReturnsZero?: boolean;
  /** Every exported alloc call grows memory by one page (memory.grow 1) before allocating. */
  growInAlloc?: boolean;
  /** Every run call grows memory by one page before doing anything else. */
  growInRun?: boolean;
}

/** The kinds of bad registration metadata a probe can send. */
export const BAD_METADATA = ['not-json', 'not-utf8', 'no-name', 'empty-name', 'name-not-string'] as const;
export type BadMetadata = (typeof BAD_METADATA)[number];

/** The metadata bytes of a bad registration. */
export function badMetadataBytes(kind: BadMetadata): Uint8Array {
  const enc = (t: string) => new TextEncoder().encode(t);
  switch (kind) {
    case 'not-json':
      return enc('not json {');
    case 'not-utf8':
      return Uint8Array.from([...enc('{"name":"probe.'), 0xff, 0xfe, ...enc('","inports":["in"],"outports":["out"]}')]);
    case 'no-name':
      return enc('{"inports":["in"],"outports":["out"]}');
    case 'empty-name':
      return enc('{"name":"","inports":["in"],"outports":["out"]}');
    case 'name-not-string':
      return enc('{"name":7,"inports":["in"],"outports":["out"]}');
  }
}

/** Pages of a high-memory probe after registration: just over 2^31 bytes. */
export const PROBE_HIGH_PAGES = 32770;
const HIGH_META = 2 ** 31 + 64;
const HIGH_HEAP = 2 ** 31 + 65536;

/** The name a decoy template has in a high-memory probe: 'w' repeated to the byte length of `name`. */
export function decoyName(name: string): string {
  return 'w'.repeat(new TextEncoder().encode(name).length);
}

/** Bytes of gap kept before and after every block the exported alloc hands out. */
export const PROBE_CANARY_BYTES = 16;

/** What a probe answers from reflow_pack_abi_version (Debian rustc 1.63's version, ABI.md's worked example). */
const PROBE_ABI_VERSION = 2522422;
const PAGE = 65536;
const STATIC_BASE = 64;
const RESULT_MODES = ['echo', 'empty', 'nonjson-error', 'oob-ptr', 'overflow-len', 'nonjson-success', 'json-nonobject'] as const;

const ECHO_HEAD = '{"out":{"type":"Integer","data":';
const ECHO_TAIL = '}}';
const NON_JSON = 'not json {';
const NON_OBJECT = '[1,2]';

/** The outputs an 'echo' probe answers for a payload of `payloadLen` bytes. */
export function echoOutputs(payloadLen: number): Record<string, unknown> {
  return { out: { type: 'Integer', data: payloadLen } };
}

interface Normalised {
  templates: string[];
  result: (typeof RESULT_MODES)[number];
  allocFailsAt: number | null;
  createReturnsZero: boolean;
  growInAlloc: boolean;
  growInRun: boolean;
  badMetadata: BadMetadata | null;
  highMemory: boolean;
}

function normalise(s: ProbeScenario): Normalised {
  if (!Array.isArray(s.templates) || s.templates.some((t) => typeof t !== 'string')) {
    throw new TypeError('probe scenario: templates must be an array of strings');
  }
  const result = s.result ?? 'echo';
  if (!RESULT_MODES.includes(result)) throw new TypeError(`probe scenario: unknown result mode ${JSON.stringify(result)}`);
  const at = s.allocFailsAt;
  if (at !== undefined && !(Number.isInteger(at) && at >= 1 && at <= 0xffffffff)) {
    throw new RangeError(`probe scenario: allocFailsAt must be an integer in 1..2^32-1, got ${at}`);
  }
  if (s.badMetadata !== undefined && !BAD_METADATA.includes(s.badMetadata)) throw new TypeError(`probe scenario: unknown badMetadata ${JSON.stringify(s.badMetadata)}`);
  return {
    templates: [...s.templates],
    result,
    allocFailsAt: at ?? null,
    createReturnsZero: s.createReturnsZero === true,
    growInAlloc: s.growInAlloc === true,
    growInRun: s.growInRun === true,
    badMetadata: s.badMetadata ?? null,
    highMemory: s.highMemory === true,
  };
}

/** Bytes as a WAT string literal (printable ASCII kept, everything else hex-escaped). */
function watString(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c) out += String.fromCharCode(b);
    else out += `\\${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The WAT text of the probe pack for a scenario. */
export function probeWat(scenario: ProbeScenario): string {
  const s = normalise(scenario);
  const enc = new TextEncoder();

  // Static data, laid out from STATIC_BASE.
  let at = STATIC_BASE;
  const data: string[] = [];
  const place = (text: string | Uint8Array): { ptr: number; len: number } => {
    const bytes = typeof text === 'string' ? enc.encode(text) : text;
    const ptr = at;
    if (bytes.length > 0) data.push(`  (data (i32.const ${ptr}) ${watString(bytes)})`);
    at = align8(at + bytes.length);
    return { ptr, len: bytes.length };
  };
  const metaOf = (name: string) => JSON.stringify({ name, inports: ['in'], outports: ['out'] });
  const metas = s.templates.map((name) => place(metaOf(name)));
  if (s.badMetadata) metas.push(place(badMetadataBytes(s.badMetadata)));
  const decoys = s.highMemory ? s.templates.map((name) => place(metaOf(decoyName(name)))) : [];
  const head = place(ECHO_HEAD);
  const tail = place(ECHO_TAIL);
  const nonJson = place(NON_JSON);
  const nonObject = place(NON_OBJECT);
  const heapStart = s.highMemory ? HIGH_HEAP : at; // the first reservation (gap, block, gap) starts here
  const pages = s.highMemory ? PROBE_HIGH_PAGES : Math.max(2, Math.ceil((heapStart + 4 * PROBE_CANARY_BYTES) / PAGE));
  const factories = metas.length;

  let registerCalls: string;
  if (!s.highMemory) {
    registerCalls = metas.map((m, i) => `    (call $host_register_template (i32.const ${m.ptr}) (i32.const ${m.len}) (i32.const ${i}))`).join('\n');
  } else {
    // Register each template from a copy at 2^31 + 64 + offset (memory is past 2 GiB from the start).
    // Read as a signed i32 that pointer is negative, and a negative subarray start
    // counts from the end of memory: it lands at (memory size - 2^31) + 64 + offset,
    // where the decoy metadata waits.
    const wrapBase = PROBE_HIGH_PAGES * PAGE - 2 ** 31;
    const lines: string[] = [];
    let off = 0;
    metas.forEach((m, i) => {
      const high = HIGH_META + off;
      lines.push(`    (memory.copy (i32.const ${high | 0}) (i32.const ${m.ptr}) (i32.const ${m.len}))`);
      const d = decoys[i];
      if (d) lines.push(`    (memory.copy (i32.const ${wrapBase + 64 + off}) (i32.const ${d.ptr}) (i32.const ${d.len}))`);
      lines.push(`    (call $host_register_template (i32.const ${high | 0}) (i32.const ${m.len}) (i32.const ${i}))`);
      off = align8(off + m.len);
    });
    registerCalls = lines.join('\n');
  }

  const failCheck =
    s.allocFailsAt === null
      ? ''
      : `    (if (i32.eq (global.get $alloc_calls) (i32.const ${s.allocFailsAt | 0}))
      (then (return (i32.const 0))))\n`;

  let runBody: string;
  switch (s.result) {
    case 'echo':
      runBody = `    ;; {"out":{"type":"Integer","data":<payload_len>}}
    (local.set $digits (call $digit_count (local.get $payload_len)))
    (local.set $len (i32.add (i32.const ${head.len + tail.len}) (local.get $digits)))
    (local.set $blk (call $bump (local.get $len)))
    (if (local.get $blk)
      (then
        (memory.copy (local.get $blk) (i32.const ${head.ptr}) (i32.const ${head.len}))
        (call $write_decimal
          (i32.add (local.get $blk) (i32.const ${head.len}))
          (local.get $digits) (local.get $payload_len))
        (memory.copy
          (i32.add (i32.add (local.get $blk) (i32.const ${head.len})) (local.get $digits))
          (i32.const ${tail.ptr}) (i32.const ${tail.len}))))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr) (local.get $blk) (local.get $len))
    (i32.const 0)`;
      break;
    case 'empty':
      runBody = `    (local.set $blk (call $bump (i32.const 1)))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr) (local.get $blk) (i32.const 0))
    (i32.const -4)`;
      break;
    case 'nonjson-error':
      runBody = `    (local.set $blk (call $bump (i32.const ${nonJson.len})))
    (if (local.get $blk)
      (then (memory.copy (local.get $blk) (i32.const ${nonJson.ptr}) (i32.const ${nonJson.len}))))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr) (local.get $blk) (i32.const ${nonJson.len}))
    (i32.const -4)`;
      break;
    case 'oob-ptr':
      runBody = `    ;; 4 bytes before the end of memory, 100 bytes long (i32 arithmetic wraps at 4 GiB, as u32 should)
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr)
      (i32.sub (i32.mul (memory.size) (i32.const ${PAGE})) (i32.const 4))
      (i32.const 100))
    (i32.const 0)`;
      break;
    case 'nonjson-success':
    case 'json-nonobject': {
      const piece = s.result === 'nonjson-success' ? nonJson : nonObject;
      runBody = `    (local.set $blk (call $bump (i32.const ${piece.len})))
    (if (local.get $blk)
      (then (memory.copy (local.get $blk) (i32.const ${piece.ptr}) (i32.const ${piece.len}))))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr) (local.get $blk) (i32.const ${piece.len}))
    (i32.const 0)`;
      break;
    }
    case 'overflow-len':
      runBody = `    ;; 16 + 0xFFFFFFF8 wraps around in u32
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr) (i32.const 16) (i32.const -8))
    (i32.const 0)`;
      break;
  }

  return `;; probe pack (packcheck harness/hosts/js/probe-pack.ts), scenario:
;; ${JSON.stringify(s).replace(/[\r\n]/g, ' ')}
(module
  (import "env" "__reflow_pack_register_template"
    (func $host_register_template (param i32 i32 i32)))

  (memory (export "memory") ${pages})

${data.join('\n')}

  ;; end of the last reservation (block + its trailing gap); never decreases
  (global $top (mut i64) (i64.const ${heapStart}))
  ;; calls of the exported __reflow_pack_alloc so far
  (global $alloc_calls (mut i32) (i32.const 0))
  ;; last instance id handed out
  (global $next_id (mut i32) (i32.const 0))

  ;; Bump allocation of size bytes (0 < size < 2^31, unchecked here):
  ;; [gap][block, 8-aligned][gap], each gap ${PROBE_CANARY_BYTES} bytes and owned by
  ;; this block alone. Grows memory as needed; 0 if it cannot.
  (func $bump (param $size i32) (result i32)
    (local $start i64) (local $end i64) (local $have i64) (local $need i64)
    (local.set $start
      (i64.and
        (i64.add (global.get $top) (i64.const ${PROBE_CANARY_BYTES + 7}))
        (i64.const -8)))
    (local.set $end
      (i64.add (i64.add (local.get $start) (i64.extend_i32_u (local.get $size))) (i64.const ${PROBE_CANARY_BYTES})))
    (local.set $have (i64.mul (i64.extend_i32_u (memory.size)) (i64.const ${PAGE})))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (local.set $need
          (i64.shr_u
            (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const ${PAGE - 1}))
            (i64.const 16)))
        (if (i64.gt_u (local.get $need) (i64.const 65536)) (then (return (i32.const 0))))
        (if (i32.eq (memory.grow (i32.wrap_i64 (local.get $need))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $top (local.get $end))
    (i32.wrap_i64 (local.get $start)))

  ;; Stores a u32 at addr if the 4 bytes lie inside memory (never traps).
  (func $store_u32 (param $addr i32) (param $v i32)
    (if (i64.le_u
          (i64.add (i64.extend_i32_u (local.get $addr)) (i64.const 4))
          (i64.mul (i64.extend_i32_u (memory.size)) (i64.const ${PAGE})))
      (then (i32.store align=1 (local.get $addr) (local.get $v)))))

  (func $write_slots (param $pp i32) (param $lp i32) (param $ptr i32) (param $len i32)
    (call $store_u32 (local.get $pp) (local.get $ptr))
    (call $store_u32 (local.get $lp) (local.get $len)))

  ;; Number of decimal digits of a u32.
  (func $digit_count (param $n i32) (result i32)
    (local $d i32)
    (local.set $d (i32.const 1))
    (block $done
      (loop $more
        (br_if $done (i32.lt_u (local.get $n) (i32.const 10)))
        (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $more)))
    (local.get $d))

  ;; Writes the u32 n in decimal, exactly digits bytes, at dst.
  (func $write_decimal (param $dst i32) (param $digits i32) (param $n i32)
    (local $p i32)
    (local.set $p (i32.add (local.get $dst) (local.get $digits)))
    (loop $more
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $more (i32.gt_u (local.get $p) (local.get $dst)))))

  (func (export "reflow_pack_abi_version") (result i32)
    (i32.const ${PROBE_ABI_VERSION}))

  (func (export "__reflow_pack_register") (result i32)
${registerCalls || '    ;; no templates'}
    (i32.const 0))

  (func (export "__reflow_pack_alloc") (param $size i32) (result i32)
${s.growInAlloc ? '    (drop (memory.grow (i32.const 1)))\n' : ''}    (global.set $alloc_calls (i32.add (global.get $alloc_calls) (i32.const 1)))
${failCheck}    (if (i32.eqz (local.get $size)) (then (return (i32.const 0))))
    ;; 2^31 and more: refused
    (if (i32.lt_s (local.get $size) (i32.const 0)) (then (return (i32.const 0))))
    (call $bump (local.get $size)))

  ;; The harness watches frees at the export boundary; the probe never reuses memory.
  (func (export "__reflow_pack_free") (param $ptr i32) (param $size i32))

  (func (export "__reflow_pack_create_actor") (param $factory i32) (result i32)
${s.createReturnsZero ? '    (return (i32.const 0))\n' : ''}    (if (i32.ge_u (local.get $factory) (i32.const ${factories}))
      (then (return (i32.const 0))))
    (global.set $next_id (i32.add (global.get $next_id) (i32.const 1)))
    (global.get $next_id))

  (func (export "__reflow_pack_destroy_actor") (param $id i32))

  (func (export "__reflow_pack_actor_run")
    (param $id i32) (param $payload_ptr i32) (param $payload_len i32)
    (param $out_ptr_ptr i32) (param $out_len_ptr i32) (result i32)
    (local $blk i32) (local $len i32) (local $digits i32)
${s.growInRun ? '    (drop (memory.grow (i32.const 1)))\n' : ''}${runBody})
)
`;
}

function cacheKey(s: Normalised): string {
  return JSON.stringify([s.templates, s.result, s.allocFailsAt, s.createReturnsZero, s.growInAlloc, s.growInRun, s.badMetadata, s.highMemory]);
}

const probeCache = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles the probe pack of a scenario; one Module per distinct scenario (defaults filled in). */
export function buildProbe(s: ProbeScenario): Promise<WebAssembly.Module> {
  const key = cacheKey(normalise(s));
  let p = probeCache.get(key);
  if (!p) {
    p = (async () => {
      const bytes = await watToWasm(probeWat(s), 'probe.wat');
      return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    })();
    probeCache.set(key, p);
    p.catch(() => {
      if (probeCache.get(key) === p) probeCache.delete(key);
    });
  }
  return p;
}
