  ;; fuzz-common.wat: helpers shared by the fuzz targets (fuzz-*.wat).
  ;; Not a module: test/fuzz.test.ts splices this file and one target into
  ;; reference.wat, with two hooks: $fuzz_member(key, value, end) for each
  ;; member of "input" once its Message passed validation, and
  ;; $fuzz_tick(entry, payload, len) just before a successful answer.

  ;; Set by $fuzz_data_int: 1 when the Message had a numeric "data".
  (global $fuzz_has (mut i32) (i32.const 0))

  ;; The number in member "data" of the Message object at $m (already
  ;; valid JSON, so digits end at a delimiter inside the payload).
  (func $fuzz_data_int (param $m i32) (result i64)
    (local $k i32) (local $q i32) (local $neg i32) (local $n i64) (local $c i32)
    (global.set $fuzz_has (i32.const 0))
    (local.set $k (call $first_item (local.get $m)))
    (block $done
      (loop $member
        (br_if $done (i32.eqz (local.get $k)))
        (if (call $str_eq (local.get $k) (global.get $KEY_DATA))
          (then
            (local.set $q (call $member_value (local.get $k)))
            (if (i32.eq (i32.load8_u (local.get $q)) (i32.const 45))
              (then (local.set $neg (i32.const 1))
                    (local.set $q (i32.add (local.get $q) (i32.const 1)))))
            (block $end
              (loop $digit
                (local.set $c (i32.sub (i32.load8_u (local.get $q)) (i32.const 48)))
                (br_if $end (i32.ge_u (local.get $c) (i32.const 10)))
                (global.set $fuzz_has (i32.const 1))
                (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10))
                                       (i64.extend_i32_u (local.get $c))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $digit)))
            (return (select (i64.sub (i64.const 0) (local.get $n)) (local.get $n) (local.get $neg)))))
        (local.set $k (call $next_item (call $s_skip_value (call $member_value (local.get $k)))))
        (br $member)))
    (i64.const 0))
