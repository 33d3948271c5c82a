  ;; fuzz-magic.wat: traps only when a port named "zebra9" carries a
  ;; Message whose "data" is 464371934 (0x1BADC0DE). The name sits in a data
  ;; segment and is compared byte by byte (no memcmp: CmpLog sees single
  ;; bytes), the number against a constant: the static dictionary finds both,
  ;; random generation neither. Violates wasm.run.valid-payload.
  (data (i32.const 2240) "zebra9\00")

  (func $fuzz_member (param $k i32) (param $v i32) (param $end i32)
    (local $i i32) (local $c i32)
    (loop $next
      (local.set $c (i32.load8_u (i32.add (i32.const 2240) (local.get $i))))
      (if (i32.eqz (local.get $c))
        (then
          (if (i32.ne (i32.load8_u (i32.add (i32.add (local.get $k) (i32.const 1)) (local.get $i))) (i32.const 34))
            (then (return)))
          (if (i32.eq (i32.wrap_i64 (call $fuzz_data_int (local.get $v))) (i32.const 0x1BADC0DE))
            (then (unreachable)))
          (return)))
      (if (i32.ne (local.get $c) (i32.load8_u (i32.add (i32.add (local.get $k) (i32.const 1)) (local.get $i))))
        (then (return)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))

  (func $fuzz_tick (param $entry i32) (param $payload i32) (param $len i32))
