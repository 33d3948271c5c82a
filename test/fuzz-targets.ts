// The fuzz targets (packs-under-test/wat/fuzz-*.wat) are the WAT reference
// pack with one deep defect: fuzz-common.wat and the target are spliced in
// before the module's closing parenthesis, with two hooks (one per member
// of "input", one before a successful answer).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWat, PACKS_DIR, WAT_REFERENCE, type Patch } from '../packs-under-test/build.ts';

const MEMBER_CHECKED = `        (if (i32.eqz (local.get $end)) (then (return (i32.const 0))))
        (if (call $str_eq (local.get $k) (global.get $KEY_IN))`;
const ANSWER = `    (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))
)`;

export type FuzzTarget = 'magic' | 'cmplog' | 'stateful' | 'hang' | 'nesting';

export function fuzzTargetPatches(target: FuzzTarget): Patch[] {
  const wat = (f: string) => readFileSync(join(PACKS_DIR, 'wat', f), 'utf8');
  return [
    [MEMBER_CHECKED, MEMBER_CHECKED.replace('\n', '\n        (call $fuzz_member (local.get $k) (local.get $v) (local.get $end))\n')],
    [ANSWER, `    (call $fuzz_tick (local.get $entry) (local.get $payload) (local.get $len))\n${ANSWER.slice(0, -2)}\n${wat('fuzz-common.wat')}\n${wat(`fuzz-${target}.wat`)}\n)`],
  ];
}

/** Builds (cached) the target's .wasm; returns its path. */
export function buildFuzzTarget(target: FuzzTarget): Promise<string> {
  return buildWat(WAT_REFERENCE, `fuzz-${target}`, fuzzTargetPatches(target));
}
