  ;; fuzz-nesting.wat: traps only when the JSON a Message carries as bytes
  ;; (Object and Array data are {"data": [byte, …]}, the bytes of JSON text)
  ;; nests 6 or more levels deep: the byte values 91 "[" and 123 "{" open a
  ;; level, 93 "]" and 125 "}" close one. Each level reached is an edge of
  ;; its own (the ladder below), so coverage feedback climbs it one level at
  ;; a time; the Message arbitraries never nest their bytes past level 3
  ;; (measured: 12,000 samples over six seeds). Violates
  ;; wasm.run.valid-payload.
  (func $fuzz_depth (param $q i32) (param $end i32) (result i32)
    (local $d i32) (local $max i32) (local $c i32) (local $n i32)
    (block $done
      (loop $byte
        (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $q)))
        (if (i32.eq (local.get $c) (i32.const 34))
          (then
            ;; A string: skipped, with its escapes.
            (local.set $q (call $s_skip_value (local.get $q)))
            (br $byte)))
        (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
          (then
            (local.set $n (i32.const 0))
            (block $num_end
              (loop $digit
                (local.set $c (i32.sub (i32.load8_u (local.get $q)) (i32.const 48)))
                (br_if $num_end (i32.ge_u (local.get $c) (i32.const 10)))
                (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $c)))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $digit)))
            (if (i32.or (i32.eq (local.get $n) (i32.const 91)) (i32.eq (local.get $n) (i32.const 123)))
              (then
                (local.set $d (i32.add (local.get $d) (i32.const 1)))
                (if (i32.gt_s (local.get $d) (local.get $max)) (then (local.set $max (local.get $d))))))
            (if (i32.or (i32.eq (local.get $n) (i32.const 93)) (i32.eq (local.get $n) (i32.const 125)))
              (then (local.set $d (i32.sub (local.get $d) (i32.const 1)))))
            (br $byte)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $byte)))
    (local.get $max))

  (func $fuzz_member (param $k i32) (param $v i32) (param $end i32)
    (local $d i32)
    (local.set $d (call $fuzz_depth (local.get $v) (call $s_skip_value (local.get $v))))
    (if (i32.ge_s (local.get $d) (i32.const 2))
      (then (if (i32.ge_s (local.get $d) (i32.const 3))
        (then (if (i32.ge_s (local.get $d) (i32.const 4))
          (then (if (i32.ge_s (local.get $d) (i32.const 5))
            (then (if (i32.ge_s (local.get $d) (i32.const 6))
              (then (unreachable))))))))))))

  (func $fuzz_tick (param $entry i32) (param $payload i32) (param $len i32))
