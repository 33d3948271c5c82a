  ;; fuzz-hang.wat: loops forever when port "in" carries a Message whose
  ;; "data" is 7777: the watchdog must cut the call off (harness.timeout)
  ;; and the campaign go on.
  (func $fuzz_member (param $k i32) (param $v i32) (param $end i32)
    (if (call $str_eq (local.get $k) (global.get $KEY_IN))
      (then
        (if (i64.eq (call $fuzz_data_int (local.get $v)) (i64.const 7777))
          (then (loop $forever (br $forever)))))))

  (func $fuzz_tick (param $entry i32) (param $payload i32) (param $len i32))
