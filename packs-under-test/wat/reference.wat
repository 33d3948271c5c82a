;; reference.wat: a hand-written reference pack for the Reflow *wasm ABI*
;; (see shared/ABI.md, "The wasm ABI", "One tick", "Messages on the wire").
;;
;; One template, "wat.echo" (factory id 0), inports ["in"], outports
;; ["out", "count"]. Every successful tick increments the instance's tick
;; counter and answers
;;     {"out":<the Message on port "in", byte for byte>,
;;      "count":{"type":"Integer","data":<ticks>}}
;; or, with no "in" input, {"out":{"type":"Flow"},"count":{...}}.
;;
;; Sections, in this order:
;;   1. imports, memory, static layout (addresses of the data below)
;;   2. static data (NUL-terminated strings)
;;   3. small helpers (byte-class table, hex, strlen, bounds)
;;   4. allocator               (__reflow_pack_alloc / __reflow_pack_free)
;;   5. UTF-8 validator         (pass 0 over the whole payload)
;;   6. JSON parser/validator   (pass 1: strict RFC 8259, depth-limited)
;;   7. message validator       (pass 2: walks the already valid text)
;;   8. instances               (open-addressing hash table of live ids)
;;   9. run, register, version  (the remaining exports)
;;
;; Conventions: every pointer and length is unsigned (i32.*_u compares,
;; ptr+len sums done in i64). Validators answer 1 = ok, 0 = reject;
;; scanners (the $j_* token functions, $check_message, $check_input)
;; answer the position just past what they accepted, 0 = reject.
;; Characters are written as decimal byte values ('"' = 34, '' = 92,
;; '{' = 123, '}' = 125, '[' = 91, ']' = 93, ',' = 44, ':' = 58).
;; Nothing traps on any payload.
(module

  ;; ===================================================================
  ;; 1. imports, memory, static layout
  ;; ===================================================================

  (import "env" "__reflow_pack_register_template"
    (func $host_register_template (param i32 i32 i32)))

  ;; 2 pages initially, no maximum: the allocator grows it on demand.
  (memory (export "memory") 2)

  ;; Static layout (bytes 0..15 are never used: address 0 means "none").
  ;;   256  template metadata JSON
  ;;   384  error texts (-1, -2, -3, -5), 64-byte slots
  ;;   640  output pieces
  ;;   736  i64 limit digit strings
  ;;   800  member names, 16-byte slots
  ;;   960  JSON literals true/false/null, 8-byte slots
  ;;  1024  Message variant names, 16-byte slots, index = variant number
  ;;  1280  NetworkEvent event_type names, 32-byte slots
  ;;  1536  byte-class table, 256 bytes (section 3; read with offset=1536)
  ;;  1792  JSON container stack, 256 bytes (section 6)
  ;;  2048  allocator free-list heads, 32 x i32 (index = size class)
  ;;  2176  decimal scratch buffer (32 bytes, digits written backwards)
  ;;  4096  heap base (bump allocation starts here)
  (global $META            i32 (i32.const 256))
  (global $ERR_UNKNOWN     i32 (i32.const 384))
  (global $ERR_UTF8        i32 (i32.const 448))
  (global $ERR_PARSE       i32 (i32.const 512))
  (global $ERR_SERIALISE   i32 (i32.const 576))
  (global $OUT_HEAD        i32 (i32.const 640))
  (global $OUT_FLOW        i32 (i32.const 656))
  (global $OUT_COUNT       i32 (i32.const 672))
  (global $OUT_TAIL        i32 (i32.const 720))
  (global $I64_MAX_DIGITS  i32 (i32.const 736))
  (global $I64_MIN_DIGITS  i32 (i32.const 768))
  (global $KEY_TYPE        i32 (i32.const 800))
  (global $KEY_DATA        i32 (i32.const 816))
  (global $KEY_INPUT       i32 (i32.const 832))
  (global $KEY_IN          i32 (i32.const 848))
  (global $KEY_NETWORK_ID  i32 (i32.const 864))
  (global $KEY_ACTOR_ID    i32 (i32.const 880))
  (global $KEY_PORT        i32 (i32.const 896))
  (global $KEY_EVENT_TYPE  i32 (i32.const 912))
  (global $LIT_TRUE        i32 (i32.const 960))
  (global $LIT_FALSE       i32 (i32.const 968))
  (global $LIT_NULL        i32 (i32.const 976))
  (global $VARIANT_NAMES   i32 (i32.const 1024))
  (global $VARIANT_COUNT   i32 (i32.const 16))
  (global $EVENT_NAMES     i32 (i32.const 1280))
  (global $EVENT_COUNT     i32 (i32.const 5))
  (global $CLASS_TABLE     i32 (i32.const 1536))
  (global $FREE_HEADS      i32 (i32.const 2048))
  (global $SCRATCH_END     i32 (i32.const 2208))
  (global $HEAP_BASE       i32 (i32.const 4096))

  ;; ===================================================================
  ;; 2. static data (every string is NUL-terminated)
  ;; ===================================================================

  (data (i32.const 256)
    "{\"name\":\"wat.echo\",\"inports\":[\"in\"],\"outports\":[\"out\",\"count\"]}\00")

  (data (i32.const 384) "{\"error\":\"unknown instance id\"}\00")
  (data (i32.const 448) "{\"error\":\"payload is not valid UTF-8\"}\00")
  (data (i32.const 512) "{\"error\":\"payload does not parse\"}\00")
  (data (i32.const 576) "{\"error\":\"outputs could not be serialised\"}\00")

  (data (i32.const 640) "{\"out\":\00")
  (data (i32.const 656) "{\"type\":\"Flow\"}\00")
  (data (i32.const 672) ",\"count\":{\"type\":\"Integer\",\"data\":\00")
  (data (i32.const 720) "}}\00")

  (data (i32.const 736) "9223372036854775807\00")
  (data (i32.const 768) "9223372036854775808\00")

  (data (i32.const 800) "type\00")
  (data (i32.const 816) "data\00")
  (data (i32.const 832) "input\00")
  (data (i32.const 848) "in\00")
  (data (i32.const 864) "network_id\00")
  (data (i32.const 880) "actor_id\00")
  (data (i32.const 896) "port\00")
  (data (i32.const 912) "event_type\00")

  (data (i32.const 960) "true\00")
  (data (i32.const 968) "false\00")
  (data (i32.const 976) "null\00")

  ;; Variant names; the slot index is the variant number used by
  ;; $check_message.
  (data (i32.const 1024) "Flow\00")              ;;  0
  (data (i32.const 1040) "Event\00")             ;;  1
  (data (i32.const 1056) "Boolean\00")           ;;  2
  (data (i32.const 1072) "Integer\00")           ;;  3
  (data (i32.const 1088) "Float\00")             ;;  4
  (data (i32.const 1104) "String\00")            ;;  5
  (data (i32.const 1120) "Object\00")            ;;  6
  (data (i32.const 1136) "Array\00")             ;;  7
  (data (i32.const 1152) "Bytes\00")             ;;  8
  (data (i32.const 1168) "StreamHandle\00")      ;;  9
  (data (i32.const 1184) "Encoded\00")           ;; 10
  (data (i32.const 1200) "Optional\00")          ;; 11
  (data (i32.const 1216) "Any\00")               ;; 12
  (data (i32.const 1232) "Error\00")             ;; 13
  (data (i32.const 1248) "RemoteReference\00")   ;; 14
  (data (i32.const 1264) "NetworkEvent\00")      ;; 15

  (data (i32.const 1280) "ActorRegistered\00")
  (data (i32.const 1312) "ActorUnregistered\00")
  (data (i32.const 1344) "NetworkConnected\00")
  (data (i32.const 1376) "NetworkDisconnected\00")
  (data (i32.const 1408) "HeartbeatMissed\00")

  ;; ===================================================================
  ;; 3. small helpers
  ;; ===================================================================

  ;; Byte classes: CLASS_TABLE[c] is a bit set, filled once at start-up.
  ;; The hot loops read it as (i32.load8_u offset=1536 <c>).
  (global $CL_WS    i32 (i32.const 1))    ;; JSON whitespace: space \t \n \r
  (global $CL_DIGIT i32 (i32.const 2))    ;; '0'..'9'
  (global $CL_STR   i32 (i32.const 4))    ;; ends a plain run in a string: '"' '\' 00..1F
  (global $CL_NEST  i32 (i32.const 8))    ;; matters when skipping a container: '"' { } [ ]
  (global $CL_END   i32 (i32.const 16))   ;; ends a number or literal: , } ] whitespace

  (func $init_classes
    (local $c i32) (local $f i32)
    (loop $next
      (local.set $f (i32.const 0))
      (if (i32.or
            (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x09)))
            (i32.or (i32.eq (local.get $c) (i32.const 0x0A)) (i32.eq (local.get $c) (i32.const 0x0D))))
        (then (local.set $f (i32.or (local.get $f)
                                    (i32.or (global.get $CL_WS) (global.get $CL_END))))))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
        (then (local.set $f (i32.or (local.get $f) (global.get $CL_DIGIT)))))
      (if (i32.or (i32.lt_u (local.get $c) (i32.const 0x20))
                  (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92))))
        (then (local.set $f (i32.or (local.get $f) (global.get $CL_STR)))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 34))
            (i32.or (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 125)))
                    (i32.or (i32.eq (local.get $c) (i32.const 91)) (i32.eq (local.get $c) (i32.const 93)))))
        (then (local.set $f (i32.or (local.get $f) (global.get $CL_NEST)))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 44))
                  (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93))))
        (then (local.set $f (i32.or (local.get $f) (global.get $CL_END)))))
      (i32.store8 (i32.add (global.get $CLASS_TABLE) (local.get $c)) (local.get $f))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $c) (i32.const 256)))))

  (start $init_classes)

  ;; '0'..'9' (false for -1, the "end of input" marker).
  (func $is_digit (param $c i32) (result i32)
    (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))

  ;; Value of a hex digit, or -1.
  (func $hex_value (param $c i32) (result i32)
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))   ;; 0-9
      (then (return (i32.sub (local.get $c) (i32.const 48)))))
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 6))    ;; a-f
      (then (return (i32.sub (local.get $c) (i32.const 87)))))
    (if (i32.lt_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 6))    ;; A-F
      (then (return (i32.sub (local.get $c) (i32.const 55)))))
    (i32.const -1))

  ;; The 4 hex digits at $q (all before $end) as a number, or -1.
  (func $hex4 (param $q i32) (param $end i32) (result i32)
    (local $v i32) (local $d i32) (local $i i32)
    (if (i32.lt_u (i32.sub (local.get $end) (local.get $q)) (i32.const 4))
      (then (return (i32.const -1))))
    (loop $digit
      (local.set $d (call $hex_value
        (i32.load8_u (i32.add (local.get $q) (local.get $i)))))
      (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $v (i32.or (i32.shl (local.get $v) (i32.const 4)) (local.get $d)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $v))

  ;; Length of a NUL-terminated static string.
  (func $strlen (param $s i32) (result i32)
    (local $q i32)
    (local.set $q (local.get $s))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $q) (local.get $s)))

  ;; Current memory size in bytes (up to 2^32, hence i64).
  (func $memory_bytes (result i64)
    (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))

  ;; 1 if [$p, $p + $n) lies inside memory.
  (func $in_memory (param $p i32) (param $n i32) (result i32)
    (i64.le_u
      (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $n)))
      (call $memory_bytes)))

  ;; ===================================================================
  ;; 4. allocator
  ;; ===================================================================
  ;; Size classes: a request of n bytes (1 <= n < 2^31) gets a block of
  ;; 2^k bytes, k = max(3, ceil(log2 n)), so 3 <= k <= 31. One LIFO free
  ;; list per class; a free block's first 4 bytes hold the next pointer.
  ;; When a class list is empty the block is cut from the heap top, which
  ;; only ever rises (memory.grow when needed). The heap base and every
  ;; block size are multiples of 8, so every block is 8-aligned.

  (global $heap_top (mut i32) (i32.const 4096))

  (func $size_class (param $size i32) (result i32)
    (if (i32.le_u (local.get $size) (i32.const 8)) (then (return (i32.const 3))))
    (i32.sub (i32.const 32) (i32.clz (i32.sub (local.get $size) (i32.const 1)))))

  (func $alloc (export "__reflow_pack_alloc") (param $size i32) (result i32)
    (local $class i32) (local $head i32) (local $p i32)
    (local $need i64) (local $have i64)
    ;; 0 bytes, and 2^31 bytes or more (negative as i32): no block.
    (if (i32.eqz (local.get $size)) (then (return (i32.const 0))))
    (if (i32.lt_s (local.get $size) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $class (call $size_class (local.get $size)))
    ;; Reuse a freed block of the class if there is one.
    (local.set $head (i32.add (global.get $FREE_HEADS)
                              (i32.shl (local.get $class) (i32.const 2))))
    (local.set $p (i32.load (local.get $head)))
    (if (local.get $p)
      (then
        (i32.store (local.get $head) (i32.load (local.get $p)))
        (return (local.get $p))))
    ;; Otherwise bump the heap top, growing memory if needed.
    (local.set $p (global.get $heap_top))
    (local.set $need (i64.add (i64.extend_i32_u (local.get $p))
                              (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $class)))))
    (if (i64.ge_u (local.get $need) (i64.const 0x100000000))
      (then (return (i32.const 0))))
    (local.set $have (call $memory_bytes))
    (if (i64.gt_u (local.get $need) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.wrap_i64
                (i64.shr_u (i64.add (i64.sub (local.get $need) (local.get $have))
                                    (i64.const 0xFFFF))
                           (i64.const 16))))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap_top (i32.wrap_i64 (local.get $need)))
    (local.get $p))

  (func $free (export "__reflow_pack_free") (param $p i32) (param $size i32)
    (local $class i32) (local $head i32)
    (if (i32.eqz (local.get $p)) (then (return)))
    (if (i32.eqz (local.get $size)) (then (return)))
    (if (i32.lt_s (local.get $size) (i32.const 0)) (then (return)))
    (local.set $class (call $size_class (local.get $size)))
    ;; Ignore anything that cannot be one of our blocks of that class.
    (if (i32.and (local.get $p) (i32.const 7)) (then (return)))
    (if (i32.lt_u (local.get $p) (global.get $HEAP_BASE)) (then (return)))
    (if (i64.gt_u
          (i64.add (i64.extend_i32_u (local.get $p))
                   (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $class))))
          (i64.extend_i32_u (global.get $heap_top)))
      (then (return)))
    ;; Push onto the class list.
    (local.set $head (i32.add (global.get $FREE_HEADS)
                              (i32.shl (local.get $class) (i32.const 2))))
    (i32.store (local.get $p) (i32.load (local.get $head)))
    (i32.store (local.get $head) (local.get $p)))

  ;; ===================================================================
  ;; 5. UTF-8 validator
  ;; ===================================================================
  ;; Strict: no stray continuation bytes, no overlong forms (C0, C1,
  ;; E0 80..9F, F0 80..8F), no surrogates (ED A0..BF), nothing above
  ;; U+10FFFF (F4 90.., F5..FF), no sequence cut short by the end.

  (func $utf8_valid (param $p i32) (param $end i32) (result i32)
    (local $c i32) (local $n i32) (local $lo i32) (local $hi i32) (local $b i32)
    (block $done
      (loop $next
        ;; ASCII fast path, 8 bytes at a time.
        (block $slow
          (loop $fast
            (br_if $slow (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 8)))
            (br_if $slow (i64.ne (i64.and (i64.load (local.get $p))
                                          (i64.const 0x8080808080808080))
                                 (i64.const 0)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $fast)))
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        ;; One ASCII byte.
        (if (i32.lt_u (local.get $c) (i32.const 0x80))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $next)))
        ;; Lead byte: $n continuation bytes, the first within [$lo, $hi].
        (local.set $lo (i32.const 0x80))
        (local.set $hi (i32.const 0xBF))
        (if (i32.lt_u (local.get $c) (i32.const 0xC2))        ;; 80..BF stray, C0 C1 overlong
          (then (return (i32.const 0))))
        (if (i32.lt_u (local.get $c) (i32.const 0xE0))
          (then (local.set $n (i32.const 1)))
          (else
            (if (i32.lt_u (local.get $c) (i32.const 0xF0))
              (then
                (local.set $n (i32.const 2))
                (if (i32.eq (local.get $c) (i32.const 0xE0))  ;; overlong
                  (then (local.set $lo (i32.const 0xA0))))
                (if (i32.eq (local.get $c) (i32.const 0xED))  ;; surrogates
                  (then (local.set $hi (i32.const 0x9F)))))
              (else
                (if (i32.ge_u (local.get $c) (i32.const 0xF5)) ;; > U+10FFFF
                  (then (return (i32.const 0))))
                (local.set $n (i32.const 3))
                (if (i32.eq (local.get $c) (i32.const 0xF0))  ;; overlong
                  (then (local.set $lo (i32.const 0x90))))
                (if (i32.eq (local.get $c) (i32.const 0xF4))  ;; > U+10FFFF
                  (then (local.set $hi (i32.const 0x8F))))))))
        ;; All $n continuation bytes must be present.
        (if (i32.le_u (i32.sub (local.get $end) (local.get $p)) (local.get $n))
          (then (return (i32.const 0))))
        (local.set $b (i32.load8_u offset=1 (local.get $p)))
        (if (i32.lt_u (local.get $b) (local.get $lo)) (then (return (i32.const 0))))
        (if (i32.gt_u (local.get $b) (local.get $hi)) (then (return (i32.const 0))))
        (if (i32.ge_u (local.get $n) (i32.const 2))
          (then
            (if (i32.ne (i32.and (i32.load8_u offset=2 (local.get $p)) (i32.const 0xC0))
                        (i32.const 0x80))
              (then (return (i32.const 0))))))
        (if (i32.ge_u (local.get $n) (i32.const 3))
          (then
            (if (i32.ne (i32.and (i32.load8_u offset=3 (local.get $p)) (i32.const 0xC0))
                        (i32.const 0x80))
              (then (return (i32.const 0))))))
        (local.set $p (i32.add (local.get $p) (i32.add (local.get $n) (i32.const 1))))
        (br $next)))
    (i32.const 1))

  ;; ===================================================================
  ;; 6. JSON parser/validator (RFC 8259, strict)
  ;; ===================================================================
  ;; An explicit-stack state machine over [$p, $je): no recursion, and
  ;; nesting deeper than $MAX_DEPTH containers is a reject, never a trap.
  ;; The stack holds the opening byte ('{' or '[') of every open
  ;; container, one byte per level, at $JSON_STACK.
  ;; Every state first skips whitespace, then looks at the byte $c at
  ;; the cursor (-1 at the end of the text):
  ;;   VALUE          a value must start here
  ;;   VALUE_OR_END   just after '[': a value, or ']'
  ;;   KEY            a member name (a string) must start here
  ;;   KEY_OR_END     just after '{': a member name, or '}'
  ;;   COLON          ':' between a member name and its value
  ;;   AFTER          after a value: ',' or the closer of the innermost
  ;;                  container, or (at depth 0) the end of the text
  ;; Strings, numbers and literals are scanned by $j_string, $j_number
  ;; and $j_literal: each takes the position of the token's first byte
  ;; and returns the position just past it, or 0 to reject (a real end
  ;; position is never 0: a token is at least one byte long).
  ;; Strings: no raw control characters, only the RFC escapes, and an
  ;; escaped surrogate must be a high one (D800..DBFF) directly followed
  ;; by an escaped low one (DC00..DFFF), as serde_json requires.

  (global $MAX_DEPTH  i32 (i32.const 256))
  (global $JSON_STACK i32 (i32.const 1792))   ;; 256 bytes
  (global $je (mut i32) (i32.const 0))        ;; end of the payload

  (global $ST_VALUE        i32 (i32.const 0))
  (global $ST_VALUE_OR_END i32 (i32.const 1))
  (global $ST_KEY          i32 (i32.const 2))
  (global $ST_KEY_OR_END   i32 (i32.const 3))
  (global $ST_COLON        i32 (i32.const 4))
  (global $ST_AFTER        i32 (i32.const 5))

  ;; The literal $lit (a NUL-terminated static string) at $p.
  (func $j_literal (param $p i32) (param $lit i32) (result i32)
    (local $c i32)
    (loop $next
      (local.set $c (i32.load8_u (local.get $lit)))
      (if (i32.eqz (local.get $c)) (then (return (local.get $p))))
      (if (i32.ge_u (local.get $p) (global.get $je)) (then (return (i32.const 0))))
      (if (i32.ne (i32.load8_u (local.get $p)) (local.get $c)) (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $lit (i32.add (local.get $lit) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; Skip zero or more digits (never fails).
  (func $j_digits (param $p i32) (result i32)
    (local $e i32)
    (local.set $e (global.get $je))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $e)))
        (br_if $done (i32.eqz (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $p)))
                                       (global.get $CL_DIGIT))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; The byte at $p, or -1 at the end.
  (func $j_byte (param $p i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $p) (global.get $je))
      (then (i32.load8_u (local.get $p)))
      (else (i32.const -1))))

  ;; number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ (e/E) [+/-] 1*DIGIT ]
  ;; $c is the byte at $p, or -1 at the end.
  (func $j_number (param $p i32) (result i32)
    (local $e i32) (local $c i32)
    (local.set $e (global.get $je))
    (local.set $c (call $j_byte (local.get $p)))
    ;; [ "-" ]
    (if (i32.eq (local.get $c) (i32.const 45))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $c (call $j_byte (local.get $p)))))
    ;; "0" / 1-9 *DIGIT
    (if (i32.eq (local.get $c) (i32.const 48))
      (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (if (i32.eqz (call $is_digit (local.get $c))) (then (return (i32.const 0))))
        (block $int_done
          (loop $int
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $int_done (i32.ge_u (local.get $p) (local.get $e)))
            (br_if $int (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $p)))
                                 (global.get $CL_DIGIT)))))))
    ;; most numbers end here, before a delimiter
    (if (i32.ge_u (local.get $p) (local.get $e)) (then (return (local.get $p))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.and (i32.load8_u offset=1536 (local.get $c)) (global.get $CL_END))
      (then (return (local.get $p))))
    ;; [ "." 1*DIGIT ]
    (if (i32.eq (local.get $c) (i32.const 46))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.eqz (call $is_digit (call $j_byte (local.get $p)))) (then (return (i32.const 0))))
        (local.set $p (call $j_digits (local.get $p)))
        (local.set $c (call $j_byte (local.get $p)))))
    ;; [ (e/E) [+/-] 1*DIGIT ]
    (if (i32.or (i32.eq (local.get $c) (i32.const 101))                       ;; 'e'
                (i32.eq (local.get $c) (i32.const 69)))                       ;; 'E'
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $c (call $j_byte (local.get $p)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 43))                    ;; '+'
                    (i32.eq (local.get $c) (i32.const 45)))                   ;; '-'
          (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (if (i32.eqz (call $is_digit (call $j_byte (local.get $p)))) (then (return (i32.const 0))))
        (local.set $p (call $j_digits (local.get $p)))))
    (local.get $p))

  ;; A string; $p is on its opening quote.
  (func $j_string (param $p i32) (result i32)
    (local $e i32) (local $c i32) (local $h i32)
    (local.set $e (global.get $je))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $e)) (then (return (i32.const 0))))  ;; unterminated
      (local.set $c (i32.load8_u (local.get $p)))
      ;; plain byte: on to the next
      (if (i32.eqz (i32.and (i32.load8_u offset=1536 (local.get $c)) (global.get $CL_STR)))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next)))
      (if (i32.eq (local.get $c) (i32.const 34))                                   ;; closing '"'
        (then (return (i32.add (local.get $p) (i32.const 1)))))
      (if (i32.ne (local.get $c) (i32.const 92))                                   ;; raw control
        (then (return (i32.const 0))))
      ;; An escape.
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.ge_u (local.get $p) (local.get $e)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 117))                                  ;; 'u'
        (then
          (local.set $h (call $hex4 (i32.add (local.get $p) (i32.const 1)) (local.get $e)))
          (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.const 5)))
          ;; lone low surrogate
          (if (i32.eq (i32.and (local.get $h) (i32.const 0xFC00)) (i32.const 0xDC00))
            (then (return (i32.const 0))))
          ;; high surrogate: an escaped low surrogate must follow
          (if (i32.eq (i32.and (local.get $h) (i32.const 0xFC00)) (i32.const 0xD800))
            (then
              (if (i32.lt_u (i32.sub (local.get $e) (local.get $p)) (i32.const 6))
                (then (return (i32.const 0))))
              (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 92)) (then (return (i32.const 0))))
              (if (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 117)) (then (return (i32.const 0))))
              (local.set $h (call $hex4 (i32.add (local.get $p) (i32.const 2)) (local.get $e)))
              (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (i32.const 0))))
              (if (i32.ne (i32.and (local.get $h) (i32.const 0xFC00)) (i32.const 0xDC00))
                (then (return (i32.const 0))))
              (local.set $p (i32.add (local.get $p) (i32.const 6)))))
          (br $next)))
      ;; \" \\ \/ \b \f \n \r \t
      (if (i32.or
            (i32.or
              (i32.or (i32.eq (local.get $c) (i32.const 34)) (i32.eq (local.get $c) (i32.const 92)))
              (i32.or (i32.eq (local.get $c) (i32.const 47)) (i32.eq (local.get $c) (i32.const 98))))
            (i32.or
              (i32.or (i32.eq (local.get $c) (i32.const 102)) (i32.eq (local.get $c) (i32.const 110)))
              (i32.or (i32.eq (local.get $c) (i32.const 114)) (i32.eq (local.get $c) (i32.const 116)))))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next)))
      (return (i32.const 0)))                                                      ;; bad escape
    (i32.const 0))

  ;; The whole text [$p, $p + $len) is exactly one JSON value, with
  ;; optional whitespace around it. Leaves $je set for section 7.
  (func $json_valid (param $p i32) (param $len i32) (result i32)
    (local $e i32) (local $c i32) (local $state i32) (local $depth i32) (local $top i32)
    (local.set $e (i32.add (local.get $p) (local.get $len)))
    (global.set $je (local.get $e))
    (local.set $state (global.get $ST_VALUE))
    (loop $machine
      ;; skip whitespace
      (block $ws_done
        (loop $ws
          (br_if $ws_done (i32.ge_u (local.get $p) (local.get $e)))
          (br_if $ws_done (i32.eqz (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $p)))
                                            (global.get $CL_WS))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $ws)))
      ;; the byte at the cursor, -1 at the end
      (local.set $c (i32.const -1))
      (if (i32.lt_u (local.get $p) (local.get $e)) (then (local.set $c (i32.load8_u (local.get $p)))))
      (block $s_after
        (block $s_colon
          (block $s_key
            (block $s_key_or_end
              (block $s_value
                (block $s_value_or_end
                  (br_table $s_value $s_value_or_end $s_key $s_key_or_end $s_colon $s_after
                            (local.get $state)))
                ;; ---- VALUE_OR_END: ']' closes the empty array (AFTER pops it),
                ;;      anything else must be a value
                (if (i32.eq (local.get $c) (i32.const 93))
                  (then
                    (local.set $state (global.get $ST_AFTER))
                    (br $machine))))
              ;; ---- VALUE
              ;; '{' or '[': open a container
              (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
                (then
                  (if (i32.ge_u (local.get $depth) (global.get $MAX_DEPTH))   ;; too deep
                    (then (return (i32.const 0))))
                  (i32.store8 (i32.add (global.get $JSON_STACK) (local.get $depth)) (local.get $c))
                  (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
                  (local.set $p (i32.add (local.get $p) (i32.const 1)))
                  (local.set $state (select (global.get $ST_KEY_OR_END) (global.get $ST_VALUE_OR_END)
                                            (i32.eq (local.get $c) (i32.const 123))))
                  (br $machine)))
              ;; a scalar
              (block $scanned
                (if (i32.eq (local.get $c) (i32.const 34))                    ;; '"'
                  (then (local.set $p (call $j_string (local.get $p))) (br $scanned)))
                (if (i32.or (i32.eq (local.get $c) (i32.const 45))                   ;; '-' or digit
                            (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
                  (then (local.set $p (call $j_number (local.get $p))) (br $scanned)))
                (if (i32.eq (local.get $c) (i32.const 116))                   ;; 't'
                  (then (local.set $p (call $j_literal (local.get $p) (global.get $LIT_TRUE))) (br $scanned)))
                (if (i32.eq (local.get $c) (i32.const 102))                   ;; 'f'
                  (then (local.set $p (call $j_literal (local.get $p) (global.get $LIT_FALSE))) (br $scanned)))
                (if (i32.eq (local.get $c) (i32.const 110))                   ;; 'n'
                  (then (local.set $p (call $j_literal (local.get $p) (global.get $LIT_NULL))) (br $scanned)))
                (return (i32.const 0)))                                       ;; no value here (or the end)
              (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))     ;; bad token
              (local.set $state (global.get $ST_AFTER))
              (br $machine))
            ;; ---- KEY_OR_END: '}' closes the empty object (AFTER pops it)
            (if (i32.eq (local.get $c) (i32.const 125))
              (then
                (local.set $state (global.get $ST_AFTER))
                (br $machine))))
          ;; ---- KEY
          (if (i32.ne (local.get $c) (i32.const 34)) (then (return (i32.const 0))))
          (local.set $p (call $j_string (local.get $p)))
          (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
          (local.set $state (global.get $ST_COLON))
          (br $machine))
        ;; ---- COLON
        (if (i32.ne (local.get $c) (i32.const 58)) (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $state (global.get $ST_VALUE))
        (br $machine))
      ;; ---- AFTER
      ;; at depth 0 the text must end here (no trailing junk)
      (if (i32.eqz (local.get $depth)) (then (return (i32.eq (local.get $p) (local.get $e)))))
      (local.set $top (i32.load8_u (i32.add (global.get $JSON_STACK)
                                            (i32.sub (local.get $depth) (i32.const 1)))))
      ;; ',': another member or element follows (no trailing comma: the
      ;; next state accepts no closer)
      (if (i32.eq (local.get $c) (i32.const 44))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $state (select (global.get $ST_KEY) (global.get $ST_VALUE)
                                    (i32.eq (local.get $top) (i32.const 123))))
          (br $machine)))
      ;; the matching closer pops the container
      (if (i32.or
            (i32.and (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $top) (i32.const 123)))
            (i32.and (i32.eq (local.get $c) (i32.const 93)) (i32.eq (local.get $top) (i32.const 91))))
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
          (br $machine)))
      (return (i32.const 0)))
    (i32.const 0))

  ;; ===================================================================
  ;; 7. message validator
  ;; ===================================================================
  ;; Runs only on text that passed $json_valid, so the walkers below can
  ;; rely on the structure (every value inside a container is followed
  ;; by ',', '}', ']' or whitespace). Positions are addresses; a value
  ;; is skipped a bounded number of times, so the pass is linear.

  ;; Set by $check_input: the span of the (last) Message on port "in",
  ;; or 0/0 when the payload has none.
  (global $in_start (mut i32) (i32.const 0))
  (global $in_end   (mut i32) (i32.const 0))

  (func $byte (param $q i32) (result i32)
    (i32.load8_u (local.get $q)))

  (func $s_ws (param $q i32) (result i32)
    (local $e i32)
    (local.set $e (global.get $je))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $q) (local.get $e)))
        (br_if $done (i32.eqz (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $q)))
                                       (global.get $CL_WS))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (local.get $q))

  ;; $q on an opening quote -> just past the closing quote.
  (func $s_skip_string (param $q i32) (result i32)
    (local $c i32)
    (local.set $q (i32.add (local.get $q) (i32.const 1)))
    (loop $next
      (local.set $c (i32.load8_u (local.get $q)))
      (if (i32.eqz (i32.and (i32.load8_u offset=1536 (local.get $c)) (global.get $CL_STR)))
        (then
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $next)))
      (if (i32.eq (local.get $c) (i32.const 34))                                    ;; '"'
        (then (return (i32.add (local.get $q) (i32.const 1)))))
      (local.set $q (i32.add (local.get $q) (i32.const 2)))                         ;; '\' x
      (br $next))
    (local.get $q))

  ;; $q on the first byte of a value -> just past the value.
  (func $s_skip_value (param $q i32) (result i32)
    (local $c i32) (local $depth i32) (local $e i32)
    (local.set $c (i32.load8_u (local.get $q)))
    (if (i32.eq (local.get $c) (i32.const 34))
      (then (return (call $s_skip_string (local.get $q)))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
      (then
        ;; a container: count brackets outside strings until they balance
        (loop $next
          (local.set $c (i32.load8_u (local.get $q)))
          (if (i32.eqz (i32.and (i32.load8_u offset=1536 (local.get $c)) (global.get $CL_NEST)))
            (then
              (local.set $q (i32.add (local.get $q) (i32.const 1)))
              (br $next)))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then
              (local.set $q (call $s_skip_string (local.get $q)))
              (br $next)))
          (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
            (then (local.set $depth (i32.add (local.get $depth) (i32.const 1))))
            (else (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $next (local.get $depth)))
        (return (local.get $q))))
    ;; a number or literal: up to the next delimiter
    (local.set $e (global.get $je))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $q) (local.get $e)))
        (br_if $done (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $q)))
                              (global.get $CL_END)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (local.get $q))

  ;; Does the string token at $q (on its opening quote), escapes decoded,
  ;; equal the NUL-terminated ASCII literal $lit? An escape that decodes
  ;; to a non-ASCII code point can never match.
  (func $str_eq (param $q i32) (param $lit i32) (result i32)
    (local $c i32) (local $l i32)
    (local.set $q (i32.add (local.get $q) (i32.const 1)))
    (loop $next
      (local.set $c (i32.load8_u (local.get $q)))
      (local.set $l (i32.load8_u (local.get $lit)))
      (if (i32.eq (local.get $c) (i32.const 34))                      ;; end of the token
        (then (return (i32.eqz (local.get $l)))))
      (if (i32.eq (local.get $c) (i32.const 92))                      ;; an escape
        (then
          (local.set $c (i32.load8_u offset=1 (local.get $q)))
          (block $decoded
            (if (i32.eq (local.get $c) (i32.const 117))                ;; \uXXXX
              (then
                (local.set $c (call $hex4 (i32.add (local.get $q) (i32.const 2))
                                          (global.get $je)))
                (if (i32.ge_u (local.get $c) (i32.const 0x80)) (then (return (i32.const 0))))
                (local.set $q (i32.add (local.get $q) (i32.const 6)))
                (br $decoded)))
            (local.set $q (i32.add (local.get $q) (i32.const 2)))
            ;; \" \\ \/ stand for themselves
            (if (i32.eq (local.get $c) (i32.const 98)) (then (local.set $c (i32.const 8))))    ;; \b
            (if (i32.eq (local.get $c) (i32.const 102)) (then (local.set $c (i32.const 12))))  ;; \f
            (if (i32.eq (local.get $c) (i32.const 110)) (then (local.set $c (i32.const 10))))  ;; \n
            (if (i32.eq (local.get $c) (i32.const 114)) (then (local.set $c (i32.const 13))))  ;; \r
            (if (i32.eq (local.get $c) (i32.const 116)) (then (local.set $c (i32.const 9))))))  ;; \t
        (else (local.set $q (i32.add (local.get $q) (i32.const 1)))))
      (if (i32.eqz (local.get $l)) (then (return (i32.const 0))))     ;; token is longer
      (if (i32.ne (local.get $c) (local.get $l)) (then (return (i32.const 0))))
      (local.set $lit (i32.add (local.get $lit) (i32.const 1)))
      (br $next))
    (i32.const 0))

  ;; Member walking. $q is on a key's opening quote; $member_value
  ;; returns the position of that member's value.
  (func $member_value (param $q i32) (result i32)
    (local.set $q (call $s_ws (call $s_skip_string (local.get $q))))             ;; on ':'
    (call $s_ws (i32.add (local.get $q) (i32.const 1))))

  ;; $q just past a member's value (or an array element): the next
  ;; member's key (or element) if a ',' follows, else 0 (a '}' or ']').
  (func $next_item (param $q i32) (result i32)
    (local.set $q (call $s_ws (local.get $q)))
    (if (i32.ne (i32.load8_u (local.get $q)) (i32.const 44)) (then (return (i32.const 0))))
    (call $s_ws (i32.add (local.get $q) (i32.const 1))))

  ;; The first item inside the container at $q ('{' or '['), or 0 when
  ;; it is empty.
  (func $first_item (param $q i32) (result i32)
    (local.set $q (call $s_ws (i32.add (local.get $q) (i32.const 1))))
    (if (i32.or (i32.eq (i32.load8_u (local.get $q)) (i32.const 125))
                (i32.eq (i32.load8_u (local.get $q)) (i32.const 93)))
      (then (return (i32.const 0))))
    (local.get $q))

  ;; The value of the first member named $key of the object at $obj
  ;; (on its '{'), or 0 when there is none.
  (func $s_find (param $obj i32) (param $key i32) (result i32)
    (local $k i32) (local $v i32)
    (local.set $k (call $first_item (local.get $obj)))
    (block $done
      (loop $member
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $v (call $member_value (local.get $k)))
        (if (call $str_eq (local.get $k) (local.get $key)) (then (return (local.get $v))))
        (local.set $k (call $next_item (call $s_skip_value (local.get $v))))
        (br $member)))
    (i32.const 0))

  ;; A JSON number that is an integer in -2^63 .. 2^63-1 (not -0, no
  ;; fraction, no exponent). Digit strings are compared, never converted.
  (func $check_integer (param $q i32) (result i32)
    (local $neg i32) (local $s i32) (local $n i32) (local $lim i32)
    (local $a i32) (local $b i32) (local $i i32) (local $c i32)
    (if (i32.eq (call $byte (local.get $q)) (i32.const 45))         ;; '-'
      (then
        (local.set $neg (i32.const 1))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))))
    (local.set $s (local.get $q))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (call $is_digit (call $byte (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $next)))
    (local.set $n (i32.sub (local.get $q) (local.get $s)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))     ;; not a number
    (local.set $c (call $byte (local.get $q)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 46))              ;; '.'
                (i32.or (i32.eq (local.get $c) (i32.const 101))     ;; 'e'
                        (i32.eq (local.get $c) (i32.const 69))))    ;; 'E'
      (then (return (i32.const 0))))
    (if (i32.and (local.get $neg)                                   ;; -0
          (i32.and (i32.eq (local.get $n) (i32.const 1))
                   (i32.eq (call $byte (local.get $s)) (i32.const 48))))
      (then (return (i32.const 0))))
    (if (i32.lt_u (local.get $n) (i32.const 19)) (then (return (i32.const 1))))
    (if (i32.gt_u (local.get $n) (i32.const 19)) (then (return (i32.const 0))))
    (local.set $lim (select (global.get $I64_MIN_DIGITS) (global.get $I64_MAX_DIGITS)
                            (local.get $neg)))
    (loop $digit
      (local.set $a (call $byte (i32.add (local.get $s) (local.get $i))))
      (local.set $b (call $byte (i32.add (local.get $lim) (local.get $i))))
      (if (i32.lt_u (local.get $a) (local.get $b)) (then (return (i32.const 1))))
      (if (i32.gt_u (local.get $a) (local.get $b)) (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $i) (i32.const 19))))
    (i32.const 1))

  ;; Any JSON number.
  (func $check_float (param $q i32) (result i32)
    (local $c i32)
    (local.set $c (call $byte (local.get $q)))
    (i32.or (i32.eq (local.get $c) (i32.const 45)) (call $is_digit (local.get $c))))

  (func $check_bool (param $q i32) (result i32)
    (local $c i32)
    (local.set $c (call $byte (local.get $q)))
    (i32.or (i32.eq (local.get $c) (i32.const 116)) (i32.eq (local.get $c) (i32.const 102))))

  (func $check_string (param $q i32) (result i32)
    (i32.eq (call $byte (local.get $q)) (i32.const 34)))

  (func $check_object (param $q i32) (result i32)
    (i32.eq (call $byte (local.get $q)) (i32.const 123)))

  (func $check_array (param $q i32) (result i32)
    (i32.eq (call $byte (local.get $q)) (i32.const 91)))

  ;; [u8]: an array whose elements are integers 0..255.
  (func $check_bytes (param $a i32) (result i32)
    (local $q i32) (local $c i32) (local $v i32) (local $n i32)
    (if (i32.eqz (call $check_array (local.get $a))) (then (return (i32.const 0))))
    (local.set $q (call $first_item (local.get $a)))
    (if (i32.eqz (local.get $q)) (then (return (i32.const 1))))           ;; []
    (loop $element
      ;; up to 3 digits, value <= 255
      (local.set $v (i32.const 0))
      (local.set $n (i32.const 0))
      (block $digits_done
        (loop $digit
          (local.set $c (i32.load8_u (local.get $q)))
          (br_if $digits_done (i32.eqz (i32.and (i32.load8_u offset=1536 (local.get $c))
                                                (global.get $CL_DIGIT))))
          (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10))
                                 (i32.sub (local.get $c) (i32.const 48))))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (if (i32.gt_u (local.get $n) (i32.const 3)) (then (return (i32.const 0))))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $digit)))
      (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))     ;; not a non-negative number
      (if (i32.gt_u (local.get $v) (i32.const 255)) (then (return (i32.const 0))))
      (if (i32.or (i32.eq (local.get $c) (i32.const 46))              ;; fraction / exponent
                  (i32.or (i32.eq (local.get $c) (i32.const 101)) (i32.eq (local.get $c) (i32.const 69))))
        (then (return (i32.const 0))))
      ;; on to the next element: [ws] ',' [ws], or [ws] ']'
      (if (i32.and (i32.load8_u offset=1536 (local.get $c)) (global.get $CL_WS))
        (then
          (local.set $q (call $s_ws (local.get $q)))
          (local.set $c (i32.load8_u (local.get $q)))))
      (if (i32.eq (local.get $c) (i32.const 93)) (then (return (i32.const 1))))   ;; ']'
      (local.set $q (i32.add (local.get $q) (i32.const 1)))                       ;; past ','
      (if (i32.and (i32.load8_u offset=1536 (i32.load8_u (local.get $q))) (global.get $CL_WS))
        (then (local.set $q (call $s_ws (local.get $q)))))
      (br $element))
    (i32.const 0))

  ;; EncodableValue: {"data": [u8, ...], ...}.
  (func $check_encodable (param $q i32) (result i32)
    (local $d i32)
    (if (i32.eqz (call $check_object (local.get $q))) (then (return (i32.const 0))))
    (local.set $d (call $s_find (local.get $q) (global.get $KEY_DATA)))
    (if (i32.eqz (local.get $d)) (then (return (i32.const 0))))
    (call $check_bytes (local.get $d)))

  ;; [EncodableValue, ...].
  (func $check_encodable_array (param $a i32) (result i32)
    (local $q i32)
    (if (i32.eqz (call $check_array (local.get $a))) (then (return (i32.const 0))))
    (local.set $q (call $first_item (local.get $a)))
    (block $done
      (loop $element
        (br_if $done (i32.eqz (local.get $q)))
        (if (i32.eqz (call $check_encodable (local.get $q))) (then (return (i32.const 0))))
        (local.set $q (call $next_item (call $s_skip_value (local.get $q))))
        (br $element)))
    (i32.const 1))

  ;; null or an EncodableValue.
  (func $check_optional (param $q i32) (result i32)
    (if (i32.eq (call $byte (local.get $q)) (i32.const 110)) (then (return (i32.const 1))))
    (call $check_encodable (local.get $q)))

  ;; The object at $obj has a member $key whose value is a string.
  (func $has_string_member (param $obj i32) (param $key i32) (result i32)
    (local $v i32)
    (local.set $v (call $s_find (local.get $obj) (local.get $key)))
    (if (i32.eqz (local.get $v)) (then (return (i32.const 0))))
    (call $check_string (local.get $v)))

  ;; {"network_id": string, "actor_id": string, "port": string}.
  (func $check_remote (param $q i32) (result i32)
    (if (i32.eqz (call $check_object (local.get $q))) (then (return (i32.const 0))))
    (if (i32.eqz (call $has_string_member (local.get $q) (global.get $KEY_NETWORK_ID)))
      (then (return (i32.const 0))))
    (if (i32.eqz (call $has_string_member (local.get $q) (global.get $KEY_ACTOR_ID)))
      (then (return (i32.const 0))))
    (call $has_string_member (local.get $q) (global.get $KEY_PORT)))

  ;; Index of the string token at $q in a table of $count NUL-terminated
  ;; names spaced $stride bytes apart, or -1.
  (func $match_name (param $q i32) (param $table i32) (param $stride i32) (param $count i32)
                    (result i32)
    (local $i i32)
    (loop $next
      (if (call $str_eq (local.get $q)
                        (i32.add (local.get $table) (i32.mul (local.get $i) (local.get $stride))))
        (then (return (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $count))))
    (i32.const -1))

  ;; {"event_type": <listed name>, "data": EncodableValue}.
  (func $check_network_event (param $q i32) (result i32)
    (local $v i32)
    (if (i32.eqz (call $check_object (local.get $q))) (then (return (i32.const 0))))
    (local.set $v (call $s_find (local.get $q) (global.get $KEY_EVENT_TYPE)))
    (if (i32.eqz (local.get $v)) (then (return (i32.const 0))))
    (if (i32.eqz (call $check_string (local.get $v))) (then (return (i32.const 0))))
    (if (i32.lt_s (call $match_name (local.get $v) (global.get $EVENT_NAMES)
                                    (i32.const 32) (global.get $EVENT_COUNT))
                  (i32.const 0))
      (then (return (i32.const 0))))
    (local.set $v (call $s_find (local.get $q) (global.get $KEY_DATA)))
    (if (i32.eqz (local.get $v)) (then (return (i32.const 0))))
    (call $check_encodable (local.get $v)))

  ;; The data $d (0 = missing) of a Message of variant $v.
  (func $check_data (param $v i32) (param $d i32) (result i32)
    ;; Flow (0): no data required, anything tolerated.
    (if (i32.eqz (local.get $v)) (then (return (i32.const 1))))
    ;; every other variant needs a data member
    (if (i32.eqz (local.get $d)) (then (return (i32.const 0))))
    ;; Event (1), Object (6), Any (12): EncodableValue
    (if (i32.or (i32.or (i32.eq (local.get $v) (i32.const 1)) (i32.eq (local.get $v) (i32.const 6)))
                (i32.eq (local.get $v) (i32.const 12)))
      (then (return (call $check_encodable (local.get $d)))))
    ;; Boolean (2)
    (if (i32.eq (local.get $v) (i32.const 2)) (then (return (call $check_bool (local.get $d)))))
    ;; Integer (3)
    (if (i32.eq (local.get $v) (i32.const 3)) (then (return (call $check_integer (local.get $d)))))
    ;; Float (4)
    (if (i32.eq (local.get $v) (i32.const 4)) (then (return (call $check_float (local.get $d)))))
    ;; String (5), Error (13)
    (if (i32.or (i32.eq (local.get $v) (i32.const 5)) (i32.eq (local.get $v) (i32.const 13)))
      (then (return (call $check_string (local.get $d)))))
    ;; Array (7)
    (if (i32.eq (local.get $v) (i32.const 7))
      (then (return (call $check_encodable_array (local.get $d)))))
    ;; Bytes (8), Encoded (10)
    (if (i32.or (i32.eq (local.get $v) (i32.const 8)) (i32.eq (local.get $v) (i32.const 10)))
      (then (return (call $check_bytes (local.get $d)))))
    ;; StreamHandle (9): any object
    (if (i32.eq (local.get $v) (i32.const 9)) (then (return (call $check_object (local.get $d)))))
    ;; Optional (11)
    (if (i32.eq (local.get $v) (i32.const 11)) (then (return (call $check_optional (local.get $d)))))
    ;; RemoteReference (14)
    (if (i32.eq (local.get $v) (i32.const 14)) (then (return (call $check_remote (local.get $d)))))
    ;; NetworkEvent (15)
    (if (i32.eq (local.get $v) (i32.const 15))
      (then (return (call $check_network_event (local.get $d)))))
    (i32.const 0))

  ;; A Message at $m: {"type": <variant>, "data": <as the variant
  ;; requires>}, members in any order (the first "type" and the first
  ;; "data" count), extra members tolerated. One walk over the members
  ;; finds both, then the data is checked. Returns the position just
  ;; past the Message, or 0.
  (func $check_message (param $m i32) (result i32)
    (local $k i32) (local $v i32) (local $end i32) (local $t i32) (local $d i32)
    (local $variant i32)
    (if (i32.eqz (call $check_object (local.get $m))) (then (return (i32.const 0))))
    (local.set $end (i32.add (local.get $m) (i32.const 1)))          ;; for {}
    (local.set $k (call $first_item (local.get $m)))
    (block $done
      (loop $member
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $v (call $member_value (local.get $k)))
        (if (i32.and (i32.eqz (local.get $t)) (call $str_eq (local.get $k) (global.get $KEY_TYPE)))
          (then (local.set $t (local.get $v))))
        (if (i32.and (i32.eqz (local.get $d)) (call $str_eq (local.get $k) (global.get $KEY_DATA)))
          (then (local.set $d (local.get $v))))
        (local.set $end (call $s_skip_value (local.get $v)))
        (local.set $k (call $next_item (local.get $end)))
        (br $member)))
    ;; past the closing '}'
    (local.set $end (i32.add (call $s_ws (local.get $end)) (i32.const 1)))
    (if (i32.eqz (local.get $t)) (then (return (i32.const 0))))               ;; no type
    (if (i32.eqz (call $check_string (local.get $t))) (then (return (i32.const 0))))
    (local.set $variant (call $match_name (local.get $t) (global.get $VARIANT_NAMES)
                                          (i32.const 16) (global.get $VARIANT_COUNT)))
    (if (i32.lt_s (local.get $variant) (i32.const 0)) (then (return (i32.const 0)))) ;; unknown
    (if (i32.eqz (call $check_data (local.get $variant) (local.get $d))) (then (return (i32.const 0))))
    (local.get $end))

  ;; "input": an object of port -> Message. Records the last "in"
  ;; Message. Returns the position just past the object, or 0.
  (func $check_input (param $obj i32) (result i32)
    (local $k i32) (local $v i32) (local $end i32)
    (if (i32.eqz (call $check_object (local.get $obj))) (then (return (i32.const 0))))
    (local.set $end (i32.add (local.get $obj) (i32.const 1)))
    (local.set $k (call $first_item (local.get $obj)))
    (block $done
      (loop $member
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $v (call $member_value (local.get $k)))
        (local.set $end (call $check_message (local.get $v)))
        (if (i32.eqz (local.get $end)) (then (return (i32.const 0))))
        (if (call $str_eq (local.get $k) (global.get $KEY_IN))
          (then
            (global.set $in_start (local.get $v))
            (global.set $in_end (local.get $end))))
        (local.set $k (call $next_item (local.get $end)))
        (br $member)))
    (i32.add (call $s_ws (local.get $end)) (i32.const 1)))

  ;; The payload at $p: an object; each "input" member must pass
  ;; $check_input; other members are ignored.
  (func $check_payload (param $p i32) (result i32)
    (local $k i32) (local $v i32) (local $end i32)
    (global.set $in_start (i32.const 0))
    (global.set $in_end (i32.const 0))
    (local.set $p (call $s_ws (local.get $p)))
    (if (i32.eqz (call $check_object (local.get $p))) (then (return (i32.const 0))))
    (local.set $k (call $first_item (local.get $p)))
    (block $done
      (loop $member
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $v (call $member_value (local.get $k)))
        (if (call $str_eq (local.get $k) (global.get $KEY_INPUT))
          (then
            (local.set $end (call $check_input (local.get $v)))
            (if (i32.eqz (local.get $end)) (then (return (i32.const 0)))))
          (else (local.set $end (call $s_skip_value (local.get $v)))))
        (local.set $k (call $next_item (local.get $end)))
        (br $member)))
    (i32.const 1))

  ;; ===================================================================
  ;; 8. instances
  ;; ===================================================================
  ;; Live instances live in an open-addressing hash table (linear
  ;; probing, load <= 1/2, backward-shift deletion, so no tombstones),
  ;; allocated from our own allocator and doubled when needed. An entry
  ;; is 16 bytes: id (i32, 0 = empty) at +0, tick counter (i64) at +8.
  ;; Ids come from a counter starting at 1 and are never reused.

  (global $tab       (mut i32) (i32.const 0))
  (global $tab_cap   (mut i32) (i32.const 0))   ;; entries, a power of two
  (global $tab_count (mut i32) (i32.const 0))
  (global $next_id   (mut i32) (i32.const 1))

  (func $hash (param $id i32) (result i32)
    (local $h i32)
    (local.set $h (i32.mul (local.get $id) (i32.const 0x9E3779B1)))
    (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))

  (func $slot (param $i i32) (result i32)
    (i32.add (global.get $tab) (i32.shl (local.get $i) (i32.const 4))))

  ;; The entry of a live id, or 0.
  (func $tab_lookup (param $id i32) (result i32)
    (local $mask i32) (local $i i32) (local $e i32) (local $eid i32)
    (if (i32.eqz (local.get $id)) (then (return (i32.const 0))))
    (if (i32.eqz (global.get $tab)) (then (return (i32.const 0))))
    (local.set $mask (i32.sub (global.get $tab_cap) (i32.const 1)))
    (local.set $i (i32.and (call $hash (local.get $id)) (local.get $mask)))
    (loop $probe
      (local.set $e (call $slot (local.get $i)))
      (local.set $eid (i32.load (local.get $e)))
      (if (i32.eq (local.get $eid) (local.get $id)) (then (return (local.get $e))))
      (if (i32.eqz (local.get $eid)) (then (return (i32.const 0))))
      (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (local.get $mask)))
      (br $probe))
    (i32.const 0))

  ;; Put (id, ticks) into the first free slot of its probe sequence
  ;; (the table has room: load <= 1/2).
  (func $tab_put (param $id i32) (param $ticks i64)
    (local $mask i32) (local $i i32) (local $e i32)
    (local.set $mask (i32.sub (global.get $tab_cap) (i32.const 1)))
    (local.set $i (i32.and (call $hash (local.get $id)) (local.get $mask)))
    (block $found
      (loop $probe
        (local.set $e (call $slot (local.get $i)))
        (br_if $found (i32.eqz (i32.load (local.get $e))))
        (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (local.get $mask)))
        (br $probe)))
    (i32.store (local.get $e) (local.get $id))
    (i64.store offset=8 (local.get $e) (local.get $ticks)))

  ;; Double the table (16 entries at first). 0 if memory ran out.
  (func $tab_grow (result i32)
    (local $old i32) (local $old_cap i32) (local $new i32) (local $new_cap i32)
    (local $i i32) (local $e i32)
    (local.set $old (global.get $tab))
    (local.set $old_cap (global.get $tab_cap))
    (local.set $new_cap (select (i32.shl (local.get $old_cap) (i32.const 1)) (i32.const 16)
                                (local.get $old_cap)))
    (if (i32.gt_u (local.get $new_cap) (i32.const 0x4000000)) (then (return (i32.const 0))))
    (local.set $new (call $alloc (i32.shl (local.get $new_cap) (i32.const 4))))
    (if (i32.eqz (local.get $new)) (then (return (i32.const 0))))
    (memory.fill (local.get $new) (i32.const 0) (i32.shl (local.get $new_cap) (i32.const 4)))
    (global.set $tab (local.get $new))
    (global.set $tab_cap (local.get $new_cap))
    (block $done
      (loop $rehash
        (br_if $done (i32.ge_u (local.get $i) (local.get $old_cap)))
        (local.set $e (i32.add (local.get $old) (i32.shl (local.get $i) (i32.const 4))))
        (if (i32.load (local.get $e))
          (then (call $tab_put (i32.load (local.get $e)) (i64.load offset=8 (local.get $e)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rehash)))
    (call $free (local.get $old) (i32.shl (local.get $old_cap) (i32.const 4)))
    (i32.const 1))

  (func $create_actor (export "__reflow_pack_create_actor") (param $factory i32) (result i32)
    (local $id i32)
    (if (i32.ne (local.get $factory) (i32.const 0)) (then (return (i32.const 0))))  ;; unknown factory
    (if (i32.eqz (global.get $next_id)) (then (return (i32.const 0))))              ;; ids exhausted
    (if (i32.gt_u (i32.shl (i32.add (global.get $tab_count) (i32.const 1)) (i32.const 1))
                  (global.get $tab_cap))
      (then
        (if (i32.eqz (call $tab_grow)) (then (return (i32.const 0))))))
    (local.set $id (global.get $next_id))
    (global.set $next_id (i32.add (local.get $id) (i32.const 1)))
    (call $tab_put (local.get $id) (i64.const 0))
    (global.set $tab_count (i32.add (global.get $tab_count) (i32.const 1)))
    (local.get $id))

  (func $destroy_actor (export "__reflow_pack_destroy_actor") (param $id i32)
    (local $e i32) (local $mask i32) (local $i i32) (local $j i32)
    (local $ej i32) (local $k i32) (local $stays i32)
    (local.set $e (call $tab_lookup (local.get $id)))
    (if (i32.eqz (local.get $e)) (then (return)))                                   ;; unknown id
    (local.set $mask (i32.sub (global.get $tab_cap) (i32.const 1)))
    (local.set $i (i32.shr_u (i32.sub (local.get $e) (global.get $tab)) (i32.const 4)))
    (local.set $j (local.get $i))
    ;; Backward shift: pull later entries of the cluster into the hole
    ;; unless their home slot lies cyclically in (hole, j].
    (block $done
      (loop $shift
        (local.set $j (i32.and (i32.add (local.get $j) (i32.const 1)) (local.get $mask)))
        (local.set $ej (call $slot (local.get $j)))
        (br_if $done (i32.eqz (i32.load (local.get $ej))))
        (local.set $k (i32.and (call $hash (i32.load (local.get $ej))) (local.get $mask)))
        (local.set $stays
          (if (result i32) (i32.le_u (local.get $i) (local.get $j))
            (then (i32.and (i32.lt_u (local.get $i) (local.get $k))
                           (i32.le_u (local.get $k) (local.get $j))))
            (else (i32.or (i32.lt_u (local.get $i) (local.get $k))
                          (i32.le_u (local.get $k) (local.get $j))))))
        (if (i32.eqz (local.get $stays))
          (then
            (i64.store (call $slot (local.get $i)) (i64.load (local.get $ej)))
            (i64.store offset=8 (call $slot (local.get $i)) (i64.load offset=8 (local.get $ej)))
            (local.set $i (local.get $j))))
        (br $shift)))
    (i64.store (call $slot (local.get $i)) (i64.const 0))
    (i64.store offset=8 (call $slot (local.get $i)) (i64.const 0))
    (global.set $tab_count (i32.sub (global.get $tab_count) (i32.const 1))))

  ;; ===================================================================
  ;; 9. run, register, version
  ;; ===================================================================

  (func $abi_version (export "reflow_pack_abi_version") (result i32)
    (i32.const 2522422))

  (func $register (export "__reflow_pack_register") (result i32)
    (call $host_register_template
      (global.get $META) (call $strlen (global.get $META)) (i32.const 0))
    (i32.const 0))

  ;; Write both out slots (skipping a slot that lies outside memory).
  (func $write_slots (param $out_ptr_ptr i32) (param $out_len_ptr i32)
                     (param $ptr i32) (param $len i32)
    (if (call $in_memory (local.get $out_ptr_ptr) (i32.const 4))
      (then (i32.store align=1 (local.get $out_ptr_ptr) (local.get $ptr))))
    (if (call $in_memory (local.get $out_len_ptr) (i32.const 4))
      (then (i32.store align=1 (local.get $out_len_ptr) (local.get $len)))))

  ;; Answer a fresh copy of the static error text $msg; returns $code.
  ;; If the copy cannot be allocated: out_ptr = 0, out_len = its length.
  (func $emit_error (param $code i32) (param $msg i32)
                    (param $out_ptr_ptr i32) (param $out_len_ptr i32) (result i32)
    (local $len i32) (local $blk i32)
    (local.set $len (call $strlen (local.get $msg)))
    (local.set $blk (call $alloc (select (local.get $len) (i32.const 1) (local.get $len))))
    (if (local.get $blk)
      (then (memory.copy (local.get $blk) (local.get $msg) (local.get $len))))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr)
                       (local.get $blk) (local.get $len))
    (local.get $code))

  ;; Build {"out":<msg>,"count":{"type":"Integer","data":<ticks+1>}},
  ;; then commit the new tick count. Returns 0, or -5 if out of memory.
  (func $emit_success (param $entry i32) (param $out_ptr_ptr i32) (param $out_len_ptr i32)
                      (result i32)
    (local $ticks i64) (local $t i64) (local $dp i32) (local $nd i32)
    (local $msg i32) (local $mlen i32) (local $la i32) (local $lb i32) (local $lc i32)
    (local $total i64) (local $blk i32) (local $w i32)
    ;; the new tick count in decimal, written backwards into the scratch
    (local.set $ticks (i64.add (i64.load offset=8 (local.get $entry)) (i64.const 1)))
    (local.set $t (local.get $ticks))
    (local.set $dp (global.get $SCRATCH_END))
    (loop $digit
      (local.set $dp (i32.sub (local.get $dp) (i32.const 1)))
      (i32.store8 (local.get $dp)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $t) (i64.const 10)))))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $t) (i64.const 0))))
    (local.set $nd (i32.sub (global.get $SCRATCH_END) (local.get $dp)))
    ;; the "out" Message: the "in" input verbatim, else a Flow
    (if (global.get $in_start)
      (then
        (local.set $msg (global.get $in_start))
        (local.set $mlen (i32.sub (global.get $in_end) (global.get $in_start))))
      (else
        (local.set $msg (global.get $OUT_FLOW))
        (local.set $mlen (call $strlen (global.get $OUT_FLOW)))))
    (local.set $la (call $strlen (global.get $OUT_HEAD)))
    (local.set $lb (call $strlen (global.get $OUT_COUNT)))
    (local.set $lc (call $strlen (global.get $OUT_TAIL)))
    (local.set $total
      (i64.add (i64.add (i64.add (i64.extend_i32_u (local.get $la)) (i64.extend_i32_u (local.get $mlen)))
                        (i64.add (i64.extend_i32_u (local.get $lb)) (i64.extend_i32_u (local.get $nd))))
               (i64.extend_i32_u (local.get $lc))))
    (if (i64.ge_u (local.get $total) (i64.const 0x80000000))
      (then (return (call $emit_error (i32.const -5) (global.get $ERR_SERIALISE)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (local.set $blk (call $alloc (i32.wrap_i64 (local.get $total))))
    (if (i32.eqz (local.get $blk))
      (then (return (call $emit_error (i32.const -5) (global.get $ERR_SERIALISE)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (local.set $w (local.get $blk))
    (memory.copy (local.get $w) (global.get $OUT_HEAD) (local.get $la))
    (local.set $w (i32.add (local.get $w) (local.get $la)))
    (memory.copy (local.get $w) (local.get $msg) (local.get $mlen))
    (local.set $w (i32.add (local.get $w) (local.get $mlen)))
    (memory.copy (local.get $w) (global.get $OUT_COUNT) (local.get $lb))
    (local.set $w (i32.add (local.get $w) (local.get $lb)))
    (memory.copy (local.get $w) (local.get $dp) (local.get $nd))
    (local.set $w (i32.add (local.get $w) (local.get $nd)))
    (memory.copy (local.get $w) (global.get $OUT_TAIL) (local.get $lc))
    (i64.store offset=8 (local.get $entry) (local.get $ticks))
    (call $write_slots (local.get $out_ptr_ptr) (local.get $out_len_ptr)
                       (local.get $blk) (i32.wrap_i64 (local.get $total)))
    (i32.const 0))

  ;; One tick. Checks in order: instance (-1), UTF-8 (-2), JSON and
  ;; shape (-3); then the echo. The payload is only ever read.
  (func $actor_run (export "__reflow_pack_actor_run")
        (param $instance i32) (param $payload i32) (param $len i32)
        (param $out_ptr_ptr i32) (param $out_len_ptr i32) (result i32)
    (local $entry i32)
    (local.set $entry (call $tab_lookup (local.get $instance)))
    (if (i32.eqz (local.get $entry))
      (then (return (call $emit_error (i32.const -1) (global.get $ERR_UNKNOWN)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    ;; a payload outside memory cannot be read: treat it as unparsable
    (if (i32.eqz (call $in_memory (local.get $payload) (local.get $len)))
      (then (return (call $emit_error (i32.const -3) (global.get $ERR_PARSE)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (if (i32.eqz (call $utf8_valid (local.get $payload)
                                   (i32.add (local.get $payload) (local.get $len))))
      (then (return (call $emit_error (i32.const -2) (global.get $ERR_UTF8)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (if (i32.eqz (call $json_valid (local.get $payload) (local.get $len)))
      (then (return (call $emit_error (i32.const -3) (global.get $ERR_PARSE)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (if (i32.eqz (call $check_payload (local.get $payload)))
      (then (return (call $emit_error (i32.const -3) (global.get $ERR_PARSE)
                                      (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))
    (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))
)
