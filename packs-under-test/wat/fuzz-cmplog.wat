  ;; fuzz-cmplog.wat: traps (an out-of-bounds load) only when a port named
  ;; "k7Qx2Z" carries a Message whose "data" is 1094795593. Neither value
  ;; is in the module as such: the name is assembled at run time from XORed
  ;; words and compared by a memcmp-like call, the number is an XOR of two
  ;; constants. Only CmpLog (the bytes the call compared, the operands of
  ;; the comparison) recovers them. Violates wasm.run.valid-payload.
  (func $fuzz_memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $i i32)
    (block $differ
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                               (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (func $fuzz_key (result i32)
    (i32.xor (i32.const 0x5A5A5A5A) (i32.const 0x1B1B1B13)))

  (func $fuzz_member (param $k i32) (param $v i32) (param $end i32)
    (local $name i32) (local $q i32) (local $six i32)
    ;; "k7Qx2Z" at 2240: 6b 37 51 78 | 32 5a, each word XORed with 0x11111111
    (i32.store (i32.const 2240) (i32.xor (i32.const 0x6940267a) (i32.const 0x11111111)))
    (i32.store16 (i32.const 2244) (i32.xor (i32.const 0x4B23) (i32.const 0x1111)))
    (local.set $name (i32.const 2240))
    (local.set $q (i32.add (local.get $k) (i32.const 1)))
    (local.set $six (i32.const 6))
    (if (i32.eqz (call $fuzz_memeq (local.get $q) (local.get $name) (local.get $six))) (then (return)))
    (if (i32.ne (i32.load8_u (i32.add (local.get $q) (i32.const 6))) (i32.const 34)) (then (return)))
    (if (i32.eq (i32.wrap_i64 (call $fuzz_data_int (local.get $v))) (call $fuzz_key))
      (then (drop (i32.load (i32.const -1))))))

  (func $fuzz_tick (param $entry i32) (param $payload i32) (param $len i32))
