// The packs under test: reference packs (every property passes) and mutants
// (one deliberate defect each, and the property ids that defect must fail).
// Rust mutants are cfg switches in rust/reference_pack.rs; WAT mutants are
// text patches of wat/reference.wat, each `from` occurring exactly once.
import { VTABLE_PROPERTY_IDS } from '../properties/catalog.ts';
import type { Patch } from './build.ts';

export interface MutantSpec {
  name: string;
  source: 'rust' | 'wat' | 'native';
  /** Rust: the `mutant` cfg value. */
  cfg?: string;
  /** WAT: the patches that make the defect. */
  patches?: readonly Patch[];
  defect: string;
  /**
   * Exactly these ids fail, on the whole battery (harness.* results
   * included): the ids whose statements the defect violates, and no other.
   */
  mustFail: readonly string[];
  /** Exactly these ids are skipped with `blockedBy` (default: none). */
  blocked?: readonly string[];
  /** Check options the defect needs to show (an expected ABI version, a short timeout for hangs). */
  options?: { expectBuildAbi?: boolean; timeoutMs?: number; entrypoint?: string };
}

const rust = (cfg: string, defect: string, mustFail: string[], options?: MutantSpec['options']): MutantSpec => ({ name: `rust-${cfg}`, source: 'rust', cfg, defect, mustFail, options });
const wat = (name: string, defect: string, patches: Patch[], mustFail: string[], options?: MutantSpec['options']): MutantSpec => ({ name: `wat-${name}`, source: 'wat', patches, defect, mustFail, options });

const WASM_MUTANTS: MutantSpec[] = [
  // The form of an error result is wasm.run.output-json's statement; the properties that judge statuses are blocked by it.
  rust('sdk-error-escaping', 'the 0.2.1 defect: error JSON built by formatting, messages (which quote the input) not escaped', ['wasm.run.output-json']),
  rust('version-unstable', 'abi_version answers value+1 after the first call', ['abi.version.stable']),
  rust('version-wrong-revision', 'abi_version answers a constant other than the build\'s', ['abi.version.expected'], { expectBuildAbi: true }),
  rust('register-status-nonzero', 'register registers everything but returns -99', ['wasm.register.status']),
  rust('metadata-no-outports', 'metadata JSON lacks "outports"', ['wasm.register.metadata']),
  rust('duplicate-name', 'the second template is also named reference.echo', ['wasm.register.unique-names']),
  rust('ids-from-one', 'factory ids start at 1', ['wasm.register.dense-ids']),
  rust('alloc-zero-nonnull', 'alloc(0) returns a real block', ['wasm.alloc.zero']),
  // Two statements: bounds (1 B..16 MiB must be 8-aligned) and huge (2^31-8..2^31-1 must be 0 or 8-aligned).
  rust('alloc-misaligned', 'alloc returns pointers 4 bytes off 8-alignment', ['wasm.alloc.bounds', 'wasm.alloc.huge']),
  rust('alloc-overlap', 'the bump allocator advances by half the size: blocks overlap', ['wasm.alloc.disjoint']),
  rust('alloc-huge-trap', 'alloc traps for sizes of 2^31 and more', ['wasm.alloc.huge']),
  rust('free-leaks', 'free does nothing', ['wasm.alloc.no-leak']),
  rust('free-zero-traps', 'free(0, n) traps', ['wasm.free.noop']),
  rust('alloc-small-only', 'alloc fails every size over 4096 bytes', ['wasm.alloc.bounds']),
  rust('payload-scribble', 'run overwrites the first payload byte', ['wasm.alloc.integrity']),
  rust('instance-unknown-factory', 'create_actor of an unknown factory id creates a factory-0 instance', ['wasm.instance.create']),
  rust('instance-ids-cycle', 'instance ids cycle 1, 2, 3: a live id is handed out again', ['wasm.instance.unique']),
  rust('destroy-noop', 'destroy_actor does nothing', ['wasm.instance.destroy']),
  rust('instance-table-evicts', 'the fifth live instance evicts the oldest', ['wasm.instance.model']),
  rust('destroy-leaks', 'destroy leaks 256 bytes per instance', ['wasm.instance.no-leak']),
  rust('out-slots-skip-on-error', 'the unknown-instance path leaves the out slots unwritten', ['wasm.run.out-slots']),
  rust('output-bad-integer', 'the counter outputs Integer data as a string', ['wasm.run.output-json']),
  rust('unknown-instance-fallback', 'run on an unknown id runs a fresh echo instance and returns 0', ['wasm.run.unknown-instance']),
  rust('no-utf8-check', 'the payload is not checked for UTF-8', ['wasm.run.invalid-utf8']),
  rust('empty-payload-ok', 'an empty payload is taken as {}', ['wasm.run.invalid-json']),
  rust('lax-boolean', 'Boolean accepts any data', ['wasm.run.bad-shape']),
  rust('integer-via-f64', 'Integers go through f64: magnitudes of 2^53 and more are rejected', ['wasm.run.valid-payload']),
  // Three statements: a valid payload is rejected (valid-payload), so is a 4-byte edge case (utf8-edges), and a UTF-8
  // payload that does not parse gets -2 "not UTF-8" instead of -3 (status-codes).
  rust('utf8-rejects-4byte', 'the UTF-8 check rejects 4-byte sequences', ['wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.status-codes']),
  rust('payload-fixed-buffer', 'payloads are copied into a 1 MiB static buffer: larger ones trap', ['wasm.run.large-payload']),
  rust('status-utf8-as-parse', 'invalid UTF-8 answers -3 instead of -2', ['wasm.run.status-codes']),
  // Two statements: the pack writes into the host-held payload block (integrity) and its result overlaps it (output-owned).
  rust('result-in-payload', 'the result is written into the payload block', ['wasm.alloc.integrity', 'wasm.run.output-owned']),
  rust('result-out-of-bounds', 'echo results claim a length running past memory', ['wasm.run.out-slots']),

  wat(
    'version-unstable',
    'abi_version answers value+1 from the second call on',
    [
      [
        '  (func $abi_version (export "reflow_pack_abi_version") (result i32)\n    (i32.const 2522422))',
        '  (global $version_calls (mut i32) (i32.const 0))\n  (func $abi_version (export "reflow_pack_abi_version") (result i32)\n    (global.set $version_calls (i32.add (global.get $version_calls) (i32.const 1)))\n    (i32.add (i32.const 2522422) (i32.gt_u (global.get $version_calls) (i32.const 1))))',
      ],
    ],
    ['abi.version.stable'],
  ),
  wat(
    'free-zero-traps',
    'the exported free traps on free(0, n) (the pack\'s own internal frees are unchanged)',
    [['  (func $free (export "__reflow_pack_free") (param $p i32) (param $size i32)\n', '  (func $free_export (export "__reflow_pack_free") (param $p i32) (param $size i32)\n    (if (i32.eqz (local.get $p)) (then (unreachable)))\n    (call $free (local.get $p) (local.get $size)))\n  (func $free (param $p i32) (param $size i32)\n']],
    ['wasm.free.noop'],
  ),
  wat('no-destroy-export', 'destroy_actor is not exported', [['(func $destroy_actor (export "__reflow_pack_destroy_actor")', '(func $destroy_actor']], ['wasm.shape.exports']),
  wat(
    'alloc-zero-block',
    'alloc(0) hands out an 8-byte block',
    [['    (if (i32.eqz (local.get $size)) (then (return (i32.const 0))))\n    (if (i32.lt_s (local.get $size)', '    (if (i32.eqz (local.get $size)) (then (local.set $size (i32.const 8))))\n    (if (i32.lt_s (local.get $size)']],
    ['wasm.alloc.zero'],
  ),
  wat(
    'destroy-unknown-hangs',
    'destroying an unknown id loops forever (an export that never returns)',
    [['    (if (i32.eqz (local.get $e)) (then (return)))                                   ;; unknown id', '    (if (i32.eqz (local.get $e)) (then (loop $hang (br $hang))))']],
    ['wasm.instance.destroy', 'harness.timeout'],
    { timeoutMs: 1000 },
  ),
  wat(
    'alloc-wild-pointer',
    'alloc answers a pointer past the end of memory for sizes over 60000',
    [['    (local.set $class (call $size_class (local.get $size)))\n    ;; Reuse', '    (if (i32.gt_u (local.get $size) (i32.const 60000)) (then (return (i32.const 0x7ffffff8))))\n    (local.set $class (call $size_class (local.get $size)))\n    ;; Reuse']],
    // Two statements: bounds (a block past memory for sizes 60001..64 KiB) and huge (2^31-8 answered with a block past memory).
    // wasm.run.large-payload cannot place its payload: blocked by wasm.alloc.bounds.
    ['wasm.alloc.bounds', 'wasm.alloc.huge'],
  ),
  wat(
    'run-traps',
    'every run hits unreachable once the payload is known to parse',
    [['    (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))\n)', '    (unreachable))\n)']],
    // Three statements say "never trap" for their payloads: valid, UTF-8 edge cases and 1-16 MiB ones.
    ['wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload'],
  ),
  wat(
    'start-traps',
    'the start function hits unreachable: the module never instantiates',
    [['  (func $init_classes\n    (local $c i32) (local $f i32)\n', '  (func $init_classes\n    (local $c i32) (local $f i32)\n    (unreachable)\n']],
    ['wasm.load.instantiate'],
  ),
  wat(
    'start-hangs',
    'the start function loops forever: instantiation never returns',
    [['  (func $init_classes\n    (local $c i32) (local $f i32)\n', '  (func $init_classes\n    (local $c i32) (local $f i32)\n    (loop $spin (br $spin))\n']],
    ['wasm.load.instantiate', 'harness.timeout'],
    { timeoutMs: 1000 },
  ),
  wat(
    'alloc-traps',
    'the exported alloc hits unreachable for every size from 1 to 2^31-9 (0 and huge sizes still answer 0; the pack\'s own allocations work)',
    [['  (func $alloc (export "__reflow_pack_alloc") (param $size i32) (result i32)\n', '  (func $alloc_export (export "__reflow_pack_alloc") (param $size i32) (result i32)\n    (if (i32.and (i32.ne (local.get $size) (i32.const 0)) (i32.lt_u (local.get $size) (i32.const 0x7ffffff8))) (then (unreachable)))\n    (call $alloc (local.get $size)))\n  (func $alloc (param $size i32) (result i32)\n']],
    ['wasm.alloc.bounds'],
  ),
  wat(
    'unprovided-import',
    'run calls a wasm-bindgen import the ABI does not have',
    [
      ['  (import "env" "__reflow_pack_register_template"\n    (func $host_register_template (param i32 i32 i32)))', '  (import "env" "__reflow_pack_register_template"\n    (func $host_register_template (param i32 i32 i32)))\n  (import "wbg" "__wbindgen_throw" (func $wbindgen_throw (param i32 i32)))'],
      ['    (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))\n)', '    (call $wbindgen_throw (i32.const 0) (i32.const 0))\n    (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))\n)'],
    ],
    // The stub throws wherever run gets that far: on every valid payload, UTF-8 edge case and 1-16 MiB payload alike.
    ['wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload'],
  ),
  // A write anywhere in any host-held block must be caught, not only in the payload's first byte: after each run the
  // pack flips one byte at a random offset of one of the blocks the host allocated and still holds (the out-slot block
  // aside: the pack writes there by right), chosen by its own xorshift generator.
  wat(
    'scribble-random-held',
    'after each run, flips one byte at a random offset of a random host-held block',
    [
      [
        '  (func $alloc (export "__reflow_pack_alloc") (param $size i32) (result i32)\n',
        [
          ';; The blocks handed out through the export and not yet freed through it: 16 entries of (ptr, size), round robin.',
          '  (global $held_tab (mut i32) (i32.const 0))',
          '  (global $held_next (mut i32) (i32.const 0))',
          '  (global $scribble_rng (mut i32) (i32.const 0x2545f491))',
          '  (func $held_table (result i32) (local $i i32)',
          '    (if (i32.eqz (global.get $held_tab))',
          '      (then',
          '        (global.set $held_tab (call $alloc (i32.const 128)))',
          '        (loop $zero',
          '          (i32.store (i32.add (global.get $held_tab) (local.get $i)) (i32.const 0))',
          '          (local.set $i (i32.add (local.get $i) (i32.const 4)))',
          '          (br_if $zero (i32.lt_u (local.get $i) (i32.const 128))))))',
          '    (global.get $held_tab))',
          '  (func $next_random (result i32) (local $x i32)',
          '    (local.set $x (global.get $scribble_rng))',
          '    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))',
          '    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))',
          '    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))',
          '    (global.set $scribble_rng (local.get $x))',
          '    (local.get $x))',
          '  (func $alloc_export (export "__reflow_pack_alloc") (param $size i32) (result i32) (local $p i32) (local $e i32)',
          '    (local.set $p (call $alloc (local.get $size)))',
          '    (if (local.get $p)',
          '      (then',
          '        (local.set $e (i32.add (call $held_table) (i32.shl (global.get $held_next) (i32.const 3))))',
          '        (i32.store (local.get $e) (local.get $p))',
          '        (i32.store offset=4 (local.get $e) (local.get $size))',
          '        (global.set $held_next (i32.and (i32.add (global.get $held_next) (i32.const 1)) (i32.const 15)))))',
          '    (local.get $p))',
          '  (func $alloc (param $size i32) (result i32)',
          '',
        ].join('\n'),
      ],
      [
        '  (func $free (export "__reflow_pack_free") (param $p i32) (param $size i32)\n',
        [
          '  (func $free_export (export "__reflow_pack_free") (param $p i32) (param $size i32) (local $i i32) (local $e i32)',
          '    (if (local.get $p)',
          '      (then',
          '        (loop $forget',
          '          (local.set $e (i32.add (call $held_table) (i32.shl (local.get $i) (i32.const 3))))',
          '          (if (i32.eq (i32.load (local.get $e)) (local.get $p)) (then (i32.store (local.get $e) (i32.const 0))))',
          '          (local.set $i (i32.add (local.get $i) (i32.const 1)))',
          '          (br_if $forget (i32.lt_u (local.get $i) (i32.const 16))))))',
          '    (call $free (local.get $p) (local.get $size)))',
          '  (func $free (param $p i32) (param $size i32)',
          '',
        ].join('\n'),
      ],
      [
        '  (func $actor_run (export "__reflow_pack_actor_run")\n',
        [
          '  (func $actor_run_export (export "__reflow_pack_actor_run")',
          '        (param $instance i32) (param $payload i32) (param $len i32)',
          '        (param $out_ptr_ptr i32) (param $out_len_ptr i32) (result i32)',
          '    (local $status i32) (local $start i32) (local $i i32) (local $e i32) (local $at i32)',
          '    (local.set $status (call $actor_run (local.get $instance) (local.get $payload) (local.get $len) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))',
          '    (local.set $start (call $next_random))',
          '    (block $done',
          '      (loop $pick',
          '        (local.set $e (i32.add (call $held_table) (i32.shl (i32.and (i32.add (local.get $start) (local.get $i)) (i32.const 15)) (i32.const 3))))',
          '        (if (i32.and (i32.ne (i32.load (local.get $e)) (i32.const 0))',
          '                     (i32.and (i32.ne (i32.load (local.get $e)) (local.get $out_ptr_ptr)) (i32.ne (i32.load offset=4 (local.get $e)) (i32.const 0))))',
          '          (then',
          '            (local.set $at (i32.add (i32.load (local.get $e)) (i32.rem_u (call $next_random) (i32.load offset=4 (local.get $e)))))',
          '            (i32.store8 (local.get $at) (i32.xor (i32.load8_u (local.get $at)) (i32.const 0xff)))',
          '            (br $done)))',
          '        (local.set $i (i32.add (local.get $i) (i32.const 1)))',
          '        (br_if $pick (i32.lt_u (local.get $i) (i32.const 16)))))',
          '    (local.get $status))',
          '  (func $actor_run',
          '',
        ].join('\n'),
      ],
    ],
    ['wasm.alloc.integrity'],
  ),
];

/**
 * What each wasm mutant blocks, exactly, over the whole battery (the ids skipped with `blockedBy`;
 * each is blocked by one of the mutant's `mustFail` ids, which states the step that broke). Mutants
 * not listed block nothing. Seen with the tests' seed and runs (test/support/check.ts).
 */
const WASM_BLOCKED: Readonly<Record<string, readonly string[]>> = {
  'rust-sdk-error-escaping': ['wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges'],
  'rust-metadata-no-outports': ['wasm.instance.create', 'wasm.instance.unique', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned', 'wasm.run.unknown-instance', 'wasm.run.invalid-utf8', 'wasm.run.invalid-json', 'wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload', 'wasm.run.status-codes'],
  'rust-alloc-overlap': ['wasm.alloc.integrity', 'wasm.alloc.no-leak', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned', 'wasm.run.unknown-instance', 'wasm.run.invalid-utf8', 'wasm.run.invalid-json', 'wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload', 'wasm.run.status-codes'],
  'rust-free-leaks': ['wasm.instance.no-leak'],
  'rust-free-zero-traps': ['wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.instance.model'],
  'rust-alloc-small-only': ['wasm.run.invalid-utf8'],
  'rust-instance-unknown-factory': ['wasm.alloc.integrity', 'wasm.instance.unique', 'wasm.instance.model'],
  'rust-instance-ids-cycle': ['wasm.alloc.integrity', 'wasm.instance.model'],
  'rust-destroy-noop': ['wasm.alloc.integrity', 'wasm.instance.no-leak'],
  'rust-instance-table-evicts': ['wasm.alloc.integrity'],
  'rust-out-slots-skip-on-error': ['wasm.instance.destroy', 'wasm.run.unknown-instance'],
  'rust-output-bad-integer': ['wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload'],
  'rust-unknown-instance-fallback': ['wasm.alloc.integrity', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.run.status-codes'],
  'rust-no-utf8-check': ['wasm.run.status-codes'],
  'rust-empty-payload-ok': ['wasm.run.status-codes'],
  'rust-result-out-of-bounds': ['wasm.instance.no-leak', 'wasm.run.output-json', 'wasm.run.valid-payload', 'wasm.run.utf8-edges'],
  'wat-free-zero-traps': ['wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.instance.model'],
  'wat-no-destroy-export': ['wasm.alloc.integrity', 'wasm.instance.unique', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak'],
  'wat-destroy-unknown-hangs': ['wasm.alloc.integrity', 'wasm.instance.unique', 'wasm.instance.model'],
  'wat-alloc-wild-pointer': ['wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.instance.model', 'wasm.run.large-payload'],
  'wat-run-traps': ['wasm.alloc.integrity', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned'],
  'wat-start-traps': ['abi.version.stable', 'abi.version.expected', 'wasm.register.status', 'wasm.register.metadata', 'wasm.register.unique-names', 'wasm.register.dense-ids', 'wasm.alloc.zero', 'wasm.alloc.bounds', 'wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.alloc.huge', 'wasm.free.noop', 'wasm.alloc.no-leak', 'wasm.instance.create', 'wasm.instance.unique', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned', 'wasm.run.unknown-instance', 'wasm.run.invalid-utf8', 'wasm.run.invalid-json', 'wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload', 'wasm.run.status-codes'],
  'wat-start-hangs': ['abi.version.stable', 'abi.version.expected', 'wasm.register.status', 'wasm.register.metadata', 'wasm.register.unique-names', 'wasm.register.dense-ids', 'wasm.alloc.zero', 'wasm.alloc.bounds', 'wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.alloc.huge', 'wasm.free.noop', 'wasm.alloc.no-leak', 'wasm.instance.create', 'wasm.instance.unique', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned', 'wasm.run.unknown-instance', 'wasm.run.invalid-utf8', 'wasm.run.invalid-json', 'wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload', 'wasm.run.status-codes'],
  'wat-alloc-traps': ['wasm.alloc.zero', 'wasm.alloc.disjoint', 'wasm.alloc.integrity', 'wasm.free.noop', 'wasm.alloc.no-leak', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned', 'wasm.run.unknown-instance', 'wasm.run.invalid-utf8', 'wasm.run.invalid-json', 'wasm.run.bad-shape', 'wasm.run.valid-payload', 'wasm.run.utf8-edges', 'wasm.run.large-payload', 'wasm.run.status-codes'],
  'wat-unprovided-import': ['wasm.alloc.integrity', 'wasm.instance.destroy', 'wasm.instance.model', 'wasm.instance.no-leak', 'wasm.run.out-slots', 'wasm.run.output-json', 'wasm.run.output-owned'],
};

export const MUTANTS: readonly MutantSpec[] = WASM_MUTANTS.map((m) => (WASM_BLOCKED[m.name] ? { ...m, blocked: WASM_BLOCKED[m.name] } : m));

const native = (cfg: string, defect: string, mustFail: string[], blocked?: string[], options?: MutantSpec['options']): MutantSpec => ({ name: `native-${cfg}`, source: 'native', cfg, defect, mustFail, ...(blocked ? { blocked } : {}), options });
/** Every vtable id but these (what a defect in a step everything relies on blocks). */
const allBut = (...ids: string[]) => VTABLE_PROPERTY_IDS.filter((id) => !ids.includes(id));
/** The failure-injecting properties that rely on register returning after a rejection (sticky-status checks that it does). */
const AFTER_REJECTION = ['vtable.register.continues', 'vtable.register.reclaim', 'vtable.register.keep-accepted'];

/** Native (vtable ABI) mutants of rust/native_pack.rs: `mustFail` and `blocked` are exact, over the whole vtable battery with an expected ABI given. */
export const NATIVE_MUTANTS: readonly MutantSpec[] = [
  native('null-host-crash', 'register(NULL) dereferences the null vtable', ['vtable.register.null-host', 'harness.crash']),
  native('host-data-changed', 'passes host_data + 1', ['vtable.register.host-data']),
  // drop.frees cannot call a NULL drop: blocked by args, which states it.
  native('null-drop', 'passes a NULL drop function', ['vtable.register.args'], ['vtable.drop.frees']),
  native('status-nonzero', 'returns -99 even when everything registered', ['vtable.register.status-ok']),
  native('last-failure-wins', 'every rejection overwrites the status', ['vtable.register.sticky-status']),
  native('stop-on-reject', 'stops registering after the first rejection', ['vtable.register.continues']),
  native('leak-rejected', 'does not free a rejected user_data', ['vtable.register.reclaim']),
  native('double-free-rejected', 'frees a rejected user_data twice', ['vtable.register.reclaim']),
  // drop has nothing left to free: drop.frees is blocked by keep-accepted, which states it.
  native('free-accepted', 'frees user_data the host accepted', ['vtable.register.keep-accepted'], ['vtable.factory.handle', 'vtable.drop.frees']),
  native('duplicate-id', 'registers native.echo twice', ['vtable.register.unique-ids']),
  native('nondeterministic', 'registration order changes from one load to the next', ['vtable.register.deterministic']),
  native('factory-null', 'the factory returns NULL', ['vtable.factory.handle']),
  native('factory-same-handle', 'the factory returns the same handle every time', ['vtable.factory.handle']),
  native('drop-noop', 'drop does not free user_data', ['vtable.drop.frees']),
  // The crash cuts off sticky-status's checked call (register must return the first failure); the others only rely on register returning.
  native('crash-on-reject', 'segfaults when a registration is rejected', ['vtable.register.sticky-status', 'harness.crash'], AFTER_REJECTION),
  native('hang-on-reject', 'register never returns once a registration is rejected', ['vtable.register.sticky-status', 'harness.timeout'], AFTER_REJECTION, { timeoutMs: 1000 }),
  // Two statements: the answer changes between calls (stable), and every call but the first answers other than the expected value (expected).
  native('version-unstable', 'abi_version answers value+1 from the second call on', ['abi.version.stable', 'abi.version.expected']),
  native('version-wrong-revision', 'abi_version answers a constant other than the build\'s', ['abi.version.expected'], undefined, { expectBuildAbi: true }),
  native('wrong-entrypoint', 'exports its register function as reflow_pack_register_v2', ['vtable.shape.symbols'], allBut('vtable.load.dlopen', 'vtable.shape.symbols')),
  native('bad-utf8-id', 'one template id is not UTF-8', ['vtable.register.args']),
  // The baseline's drop aborts in glibc: drop.frees owns that step; nothing else needs drop (the others keep their registrations).
  native('drop-double-free', 'drop frees user_data twice (glibc aborts the process during the baseline unload)', ['vtable.drop.frees', 'harness.crash']),
  native('ctor-hang', 'an ELF constructor never returns (dlopen hangs)', ['vtable.load.dlopen', 'harness.timeout'], allBut('vtable.load.dlopen'), { timeoutMs: 1000 }),
  native('ctor-crash', 'an ELF constructor writes through a null pointer (dlopen crashes)', ['vtable.load.dlopen', 'harness.crash'], allBut('vtable.load.dlopen')),
  native('missing-dep', 'needs libpackcheck_missing_dep.so, which does not exist (dlopen fails)', ['vtable.load.dlopen'], allBut('vtable.load.dlopen')),
];
