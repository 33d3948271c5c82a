  ;; fuzz-stateful.wat: after three successful ticks on one instance whose
  ;; port "in" carries the numbers 17, 42 and 99 in that order, the third
  ;; tick writes one byte into the payload block, which the host holds
  ;; (ABI.md: the payload is read-only). The state lives in the instance's
  ;; table entry (bytes 4..7, unused by the reference). Violates
  ;; wasm.alloc.integrity.
  (global $fuzz_value (mut i64) (i64.const 0))
  (global $fuzz_seen (mut i32) (i32.const 0))

  (func $fuzz_member (param $k i32) (param $v i32) (param $end i32)
    (if (call $str_eq (local.get $k) (global.get $KEY_IN))
      (then
        (global.set $fuzz_value (call $fuzz_data_int (local.get $v)))
        (global.set $fuzz_seen (global.get $fuzz_has)))))

  (func $fuzz_tick (param $entry i32) (param $payload i32) (param $len i32)
    (local $state i32) (local $next i32)
    (local.set $state (i32.load offset=4 (local.get $entry)))
    (if (global.get $fuzz_seen)
      (then
        (if (i32.and (i32.eqz (local.get $state)) (i64.eq (global.get $fuzz_value) (i64.const 17)))
          (then (local.set $next (i32.const 1))))
        (if (i32.and (i32.eq (local.get $state) (i32.const 1)) (i64.eq (global.get $fuzz_value) (i64.const 42)))
          (then (local.set $next (i32.const 2))))
        (if (i32.and (i32.eq (local.get $state) (i32.const 2)) (i64.eq (global.get $fuzz_value) (i64.const 99)))
          (then (i32.store8 (local.get $payload) (i32.const 0x21))))))
    (i32.store offset=4 (local.get $entry) (local.get $next))
    (global.set $fuzz_seen (i32.const 0)))
