//! packcheck reference pack: a single-file, std-only Rust cdylib that speaks
//! the Reflow pack *wasm ABI* as `shared/ABI.md` describes it for 0.2.1, with
//! one deliberate improvement: every error result is valid JSON.
//!
//! It is the "known good" subject of the conformance harness. Each mutant
//! (selected with `--cfg 'mutant="NAME"'`) is this same pack with exactly one
//! defect planted, so that the harness can be shown to catch it. The mutant
//! hooks are kept small (`cfg!(mutant = ...)` tests, or `#[cfg]` on a few
//! items) so that the reference path reads straight through.
//!
//! Build (Debian's rustc 1.63, which ships the wasm32 std):
//!
//! ```text
//! PACKCHECK_ABI_VERSION=2522422 /usr/bin/rustc --edition 2021 --crate-type cdylib \
//!     --target wasm32-unknown-unknown -C opt-level=2 -C panic=abort \
//!     [--cfg 'mutant="NAME"'] -o out.wasm packs-under-test/rust/reference_pack.rs
//! ```
//!
//! Templates registered (factory ids 0 and 1, in this order):
//!
//! * `reference.echo`    in: `in`       out: `out`   — re-emits the Message
//!   received on `in` byte for byte, or a `Flow` when `in` is absent.
//! * `reference.counter` in: `a`, `b`   out: `count` — emits the number of
//!   ticks this instance has run as an `Integer`; any other input port is an
//!   actor error (status -4).
//!
//! Mutants: sdk-error-escaping, version-unstable, version-wrong-revision,
//! register-status-nonzero, metadata-no-outports, duplicate-name,
//! ids-from-one, alloc-zero-nonnull, alloc-misaligned, alloc-overlap,
//! alloc-huge-trap, free-leaks, free-zero-traps, alloc-small-only,
//! payload-scribble, instance-unknown-factory, instance-ids-cycle,
//! destroy-noop, instance-table-evicts, destroy-leaks,
//! out-slots-skip-on-error, output-bad-integer, unknown-instance-fallback,
//! no-utf8-check, empty-payload-ok, lax-boolean, integer-via-f64,
//! utf8-rejects-4byte, payload-fixed-buffer, status-utf8-as-parse,
//! result-in-payload, result-out-of-bounds.
//!
//! Nothing here may panic: wasm32 aborts on panic, and a pack must answer
//! every input with a status rather than a trap. Indexing goes through
//! `get`, arithmetic on host-supplied numbers is checked or widened.

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::fmt::Write as _;

// ───────────────────────────── ABI version ─────────────────────────────

/// Decimal text -> u32, evaluated at compile time.
const fn parse_decimal_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        panic!("PACKCHECK_ABI_VERSION is empty");
    }
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c < b'0' || c > b'9' {
            panic!("PACKCHECK_ABI_VERSION must be a decimal u32");
        }
        value = value * 10 + (c - b'0') as u32;
        i += 1;
    }
    value
}

/// FNV-1a of `rustc -vV` and the revision bytes, computed by the build script.
const ABI_VERSION: u32 = parse_decimal_u32(env!("PACKCHECK_ABI_VERSION"));

#[cfg(mutant = "version-unstable")]
static mut VERSION_CALLS: u32 = 0;

#[no_mangle]
pub extern "C" fn reflow_pack_abi_version() -> u32 {
    #[cfg(mutant = "version-unstable")]
    unsafe {
        VERSION_CALLS = VERSION_CALLS.saturating_add(1);
        if VERSION_CALLS > 1 {
            return ABI_VERSION.wrapping_add(1);
        }
    }
    if cfg!(mutant = "version-wrong-revision") {
        return ABI_VERSION ^ 1;
    }
    ABI_VERSION
}

// ───────────────────────────── templates ─────────────────────────────

#[link(wasm_import_module = "env")]
extern "C" {
    fn __reflow_pack_register_template(metadata_ptr: *const u8, metadata_len: u32, factory_id: u32);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ActorKind {
    Echo,
    Counter,
}

struct Template {
    name: &'static str,
    inports: &'static [&'static str],
    outports: &'static [&'static str],
    kind: ActorKind,
}

const COUNTER_NAME: &str = if cfg!(mutant = "duplicate-name") {
    "reference.echo"
} else {
    "reference.counter"
};

static TEMPLATES: [Template; 2] = [
    Template {
        name: "reference.echo",
        inports: &["in"],
        outports: &["out"],
        kind: ActorKind::Echo,
    },
    Template {
        name: COUNTER_NAME,
        inports: &["a", "b"],
        outports: &["count"],
        kind: ActorKind::Counter,
    },
];

/// Factory id of the first template; the rest follow densely.
const FIRST_FACTORY_ID: u32 = if cfg!(mutant = "ids-from-one") { 1 } else { 0 };

/// Appends `s` as a JSON string literal: `"` and `\` escaped, and every
/// control character below U+0020 as a short escape or `\u00XX`.
fn push_json_string(out: &mut String, s: &str) {
    push_quoted(out, s, |out, c| {
        let _ = write!(out, "\\u{:04x}", c);
    });
}

/// Appends `s` quoted the way Rust's `{:?}` quotes the strings serde puts
/// in its messages (`\"`, `\\`, `\n`, `\u{1}`).
fn push_debug_string(out: &mut String, s: &str) {
    push_quoted(out, s, |out, c| {
        let _ = write!(out, "\\u{{{:x}}}", c);
    });
}

fn push_quoted(out: &mut String, s: &str, control: fn(&mut String, u8)) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run = 0;
    for (at, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Split points are ASCII bytes, so both pieces stay valid UTF-8.
        out.push_str(s.get(run..at).unwrap_or(""));
        if short.is_empty() {
            control(out, b);
        } else {
            out.push_str(short);
        }
        run = at + 1;
    }
    out.push_str(s.get(run..).unwrap_or(""));
    out.push('"');
}

fn push_json_string_array(out: &mut String, items: &[&str]) {
    out.push('[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_json_string(out, item);
    }
    out.push(']');
}

fn metadata_json(t: &Template) -> String {
    let mut s = String::from("{\"name\":");
    push_json_string(&mut s, t.name);
    s.push_str(",\"inports\":");
    push_json_string_array(&mut s, t.inports);
    if !cfg!(mutant = "metadata-no-outports") {
        s.push_str(",\"outports\":");
        push_json_string_array(&mut s, t.outports);
    }
    s.push('}');
    s
}

#[no_mangle]
pub extern "C" fn __reflow_pack_register() -> i32 {
    for (index, template) in TEMPLATES.iter().enumerate() {
        let metadata = metadata_json(template);
        let factory_id = FIRST_FACTORY_ID + index as u32;
        unsafe {
            __reflow_pack_register_template(metadata.as_ptr(), metadata.len() as u32, factory_id);
        }
    }
    if cfg!(mutant = "register-status-nonzero") {
        -99
    } else {
        0
    }
}

// ───────────────────────────── memory ─────────────────────────────

/// Blocks of 2^31 bytes and more are always refused.
const MAX_BLOCK: u32 = 0x8000_0000;

fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65536
}

/// One 8-aligned block from the global allocator; 0 on failure.
fn heap_alloc(size: u32) -> u32 {
    if size == 0 || size >= MAX_BLOCK {
        return 0;
    }
    match Layout::from_size_align(size as usize, 8) {
        Ok(layout) => unsafe { std::alloc::alloc(layout) as usize as u32 },
        Err(_) => 0,
    }
}

fn heap_free(ptr: u32, size: u32) {
    if ptr == 0 || size == 0 || size >= MAX_BLOCK {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size as usize, 8) {
        unsafe { std::alloc::dealloc(ptr as usize as *mut u8, layout) }
    }
}

#[cfg(mutant = "alloc-overlap")]
static mut BUMP_NEXT: u64 = 0;
#[cfg(mutant = "alloc-overlap")]
static mut BUMP_END: u64 = 0;

/// alloc-overlap: a private bump region that advances by only half of
/// each request, so neighbouring blocks overlap.
#[cfg(mutant = "alloc-overlap")]
fn bump_alloc(size: u32) -> u32 {
    let size = size as u64;
    let step = ((size + 1) / 2 + 7) / 8 * 8;
    unsafe {
        if BUMP_NEXT == 0 || BUMP_NEXT + size > BUMP_END {
            let pages = ((size + 65535) / 65536).max(16);
            let old = core::arch::wasm32::memory_grow(0, pages as usize);
            if old == usize::MAX {
                return 0;
            }
            let start = old as u64 * 65536;
            let end = start + pages * 65536;
            if end > u32::MAX as u64 {
                return 0;
            }
            BUMP_NEXT = start;
            BUMP_END = end;
        }
        let p = BUMP_NEXT;
        BUMP_NEXT += step;
        p as u32
    }
}
#[cfg(not(mutant = "alloc-overlap"))]
fn bump_alloc(_size: u32) -> u32 {
    0
}

fn alloc_impl(size: u32) -> u32 {
    if size == 0 {
        if cfg!(mutant = "alloc-zero-nonnull") {
            return heap_alloc(8);
        }
        return 0;
    }
    if size >= MAX_BLOCK {
        if cfg!(mutant = "alloc-huge-trap") {
            trap();
        }
        return 0;
    }
    if cfg!(mutant = "alloc-small-only") && size > 4096 {
        return 0;
    }
    if cfg!(mutant = "alloc-overlap") {
        return bump_alloc(size);
    }
    if cfg!(mutant = "alloc-misaligned") {
        let p = match size.checked_add(4) {
            Some(padded) => heap_alloc(padded),
            None => 0,
        };
        return if p == 0 { 0 } else { p + 4 };
    }
    heap_alloc(size)
}

fn free_impl(ptr: u32, size: u32) {
    if ptr == 0 {
        if cfg!(mutant = "free-zero-traps") {
            trap();
        }
        return;
    }
    if size == 0 {
        return;
    }
    if cfg!(mutant = "free-leaks") || cfg!(mutant = "alloc-overlap") {
        return;
    }
    if cfg!(mutant = "alloc-misaligned") {
        if let (Some(p), Some(s)) = (ptr.checked_sub(4), size.checked_add(4)) {
            heap_free(p, s);
        }
        return;
    }
    heap_free(ptr, size)
}

#[no_mangle]
pub extern "C" fn __reflow_pack_alloc(size: u32) -> u32 {
    alloc_impl(size)
}

#[no_mangle]
pub extern "C" fn __reflow_pack_free(ptr: u32, size: u32) {
    free_impl(ptr, size)
}

// ───────────────────────────── instances ─────────────────────────────

struct Instance {
    kind: ActorKind,
    ticks: u64,
    #[cfg(mutant = "destroy-leaks")]
    ballast: Vec<u8>,
}

impl Instance {
    fn new(kind: ActorKind) -> Instance {
        Instance {
            kind,
            ticks: 0,
            #[cfg(mutant = "destroy-leaks")]
            ballast: vec![0u8; 256],
        }
    }
}

// wasm32-unknown-unknown is single threaded and nothing here re-enters, so
// plain `static mut` is sound in practice.
static mut INSTANCES: Option<BTreeMap<u32, Instance>> = None;
static mut NEXT_INSTANCE_ID: u32 = 1;

fn instances() -> &'static mut BTreeMap<u32, Instance> {
    unsafe { INSTANCES.get_or_insert_with(BTreeMap::new) }
}

#[no_mangle]
pub extern "C" fn __reflow_pack_create_actor(factory_id: u32) -> u32 {
    let template = factory_id
        .checked_sub(FIRST_FACTORY_ID)
        .and_then(|index| TEMPLATES.get(index as usize));
    let kind = match template {
        Some(t) => t.kind,
        None if cfg!(mutant = "instance-unknown-factory") => ActorKind::Echo,
        None => return 0,
    };
    let id = unsafe {
        let id = NEXT_INSTANCE_ID;
        if id == 0 {
            // The counter wrapped: every id has been handed out once.
            return 0;
        }
        NEXT_INSTANCE_ID = if cfg!(mutant = "instance-ids-cycle") {
            id % 3 + 1
        } else {
            id.wrapping_add(1)
        };
        id
    };
    let table = instances();
    if cfg!(mutant = "instance-table-evicts") {
        while table.len() >= 4 {
            let oldest = match table.keys().next() {
                Some(&k) => k,
                None => break,
            };
            table.remove(&oldest);
        }
    }
    table.insert(id, Instance::new(kind));
    id
}

#[no_mangle]
pub extern "C" fn __reflow_pack_destroy_actor(instance_id: u32) {
    if cfg!(mutant = "destroy-noop") {
        return;
    }
    let removed = instances().remove(&instance_id);
    #[cfg(mutant = "destroy-leaks")]
    let removed = removed.map(|mut instance| {
        std::mem::forget(std::mem::take(&mut instance.ballast));
        instance
    });
    drop(removed);
}

// ───────────────────────────── one tick ─────────────────────────────

/// Where the result goes, and the payload block (for the mutants that abuse it).
struct Out {
    ptr_slot: u32,
    len_slot: u32,
    payload_ptr: u32,
    payload_len: u32,
}

fn slot_in_memory(addr: u32) -> bool {
    addr as u64 + 4 <= memory_bytes()
}

fn write_slot(addr: u32, value: u32) {
    if slot_in_memory(addr) {
        unsafe { core::ptr::write_unaligned(addr as usize as *mut u32, value) }
    }
}

/// Hands `parts`, concatenated, to the host as a fresh block of
/// `max(len, 1)` bytes and fills both out slots.
fn emit(out: &Out, parts: &[&[u8]], success: bool) {
    let total = parts.iter().fold(0usize, |acc, p| acc.saturating_add(p.len()));
    let len = u32::try_from(total).unwrap_or(u32::MAX);
    if !slot_in_memory(out.ptr_slot) || !slot_in_memory(out.len_slot) {
        // Nowhere to report a block: do not allocate one that would leak.
        write_slot(out.ptr_slot, 0);
        write_slot(out.len_slot, len);
        return;
    }
    if cfg!(mutant = "result-in-payload")
        && success
        && out.payload_ptr != 0
        && total <= out.payload_len as usize
    {
        let joined: Vec<u8> = parts.concat();
        unsafe {
            core::ptr::copy(joined.as_ptr(), out.payload_ptr as usize as *mut u8, joined.len());
        }
        write_slot(out.ptr_slot, out.payload_ptr);
        write_slot(out.len_slot, len);
        return;
    }
    let block = alloc_impl(len.max(1));
    if block != 0 {
        let mut at = block as usize;
        for part in parts {
            unsafe { core::ptr::copy_nonoverlapping(part.as_ptr(), at as *mut u8, part.len()) }
            at += part.len();
        }
    }
    write_slot(out.ptr_slot, block);
    write_slot(out.len_slot, len);
}

fn error_json(code: i32, message: &str) -> String {
    if cfg!(mutant = "sdk-error-escaping") {
        // What 0.2.1 does: string formatting, escaping only `"` on -4.
        let shown = if code == -4 {
            message.replace('"', "\\\"")
        } else {
            message.to_string()
        };
        return format!("{{\"error\":\"{}\"}}", shown);
    }
    let mut s = String::with_capacity(message.len() + 12);
    s.push_str("{\"error\":");
    push_json_string(&mut s, message);
    s.push('}');
    s
}

fn fail(out: &Out, code: i32, message: &str) -> i32 {
    let json = error_json(code, message);
    emit(out, &[json.as_bytes()], false);
    code
}

fn check_utf8(bytes: &[u8]) -> Result<(), String> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(format!("invalid utf-8 in payload: {}", e));
    }
    if cfg!(mutant = "utf8-rejects-4byte") {
        if let Some(at) = bytes.iter().position(|&b| b >= 0xF0) {
            return Err(format!(
                "invalid utf-8 in payload: invalid utf-8 sequence of 1 bytes from index {}",
                at
            ));
        }
    }
    Ok(())
}

#[cfg(mutant = "payload-fixed-buffer")]
static mut FIXED_PAYLOAD: [u8; 1 << 20] = [0; 1 << 20];

#[no_mangle]
pub extern "C" fn __reflow_pack_actor_run(
    instance_id: u32,
    payload_ptr: u32,
    payload_len: u32,
    out_ptr_ptr: u32,
    out_len_ptr: u32,
) -> i32 {
    let out = Out {
        ptr_slot: out_ptr_ptr,
        len_slot: out_len_ptr,
        payload_ptr,
        payload_len,
    };

    // 1. The instance.
    let kind = match instances().get(&instance_id) {
        Some(instance) => instance.kind,
        None if cfg!(mutant = "unknown-instance-fallback") => ActorKind::Echo,
        None if cfg!(mutant = "out-slots-skip-on-error") => return -1,
        None => return fail(&out, -1, &format!("unknown instance id {}", instance_id)),
    };

    // 2. The payload bytes (read only).
    if payload_len > 0 && (payload_ptr == 0 || payload_ptr as u64 + payload_len as u64 > memory_bytes()) {
        return fail(&out, -3, "parse payload: the payload block lies outside memory");
    }
    let raw: &[u8] = if payload_len == 0 {
        &[]
    } else {
        unsafe { core::slice::from_raw_parts(payload_ptr as usize as *const u8, payload_len as usize) }
    };

    #[cfg(mutant = "payload-fixed-buffer")]
    let raw: &[u8] = unsafe {
        if raw.len() > FIXED_PAYLOAD.len() {
            trap();
        }
        let n = raw.len();
        FIXED_PAYLOAD[..n].copy_from_slice(raw);
        &FIXED_PAYLOAD[..n]
    };

    // 3. UTF-8.
    let lossy: String;
    let text: &[u8] = if cfg!(mutant = "empty-payload-ok") && raw.is_empty() {
        b"{}"
    } else if cfg!(mutant = "no-utf8-check") {
        lossy = String::from_utf8_lossy(raw).into_owned();
        lossy.as_bytes()
    } else {
        match check_utf8(raw) {
            Ok(()) => raw,
            Err(message) => {
                let code = if cfg!(mutant = "status-utf8-as-parse") {
                    -3
                } else {
                    -2
                };
                return fail(&out, code, &message);
            }
        }
    };

    // 4. JSON and the Message schema.
    let ports = match Parser::new(text).payload() {
        Ok(ports) => ports,
        Err(e) => return fail(&out, -3, &e.render(text)),
    };

    // 5. The actor's behaviour.
    let status = tick(kind, instance_id, text, &ports, &out);

    if cfg!(mutant = "payload-scribble") && payload_len > 0 {
        unsafe { core::ptr::write_volatile(payload_ptr as usize as *mut u8, b' ') }
    }
    status
}

fn tick(kind: ActorKind, instance_id: u32, text: &[u8], ports: &[Port], out: &Out) -> i32 {
    match kind {
        ActorKind::Echo => {
            // With duplicate keys the last one wins, as in a map.
            match ports.iter().rev().find(|p| p.name == "in") {
                Some(port) => {
                    let message = text.get(port.start..port.end).unwrap_or(b"{\"type\":\"Flow\"}");
                    emit(out, &[b"{\"out\":", message, b"}"], true);
                }
                None => emit(out, &[b"{\"out\":{\"type\":\"Flow\"}}"], true),
            }
            if cfg!(mutant = "result-out-of-bounds") {
                write_slot(out.len_slot, 0x7FFF_FFF0);
            }
            0
        }
        ActorKind::Counter => {
            if let Some(port) = ports.iter().find(|p| p.name != "a" && p.name != "b") {
                return fail(out, -4, &format!("unexpected port \"{}\"", port.name));
            }
            let count = match instances().get_mut(&instance_id) {
                Some(instance) => {
                    instance.ticks = instance.ticks.saturating_add(1);
                    instance.ticks
                }
                None => 1,
            };
            let body = if cfg!(mutant = "output-bad-integer") {
                format!("{{\"count\":{{\"type\":\"Integer\",\"data\":\"{}\"}}}}", count)
            } else {
                format!("{{\"count\":{{\"type\":\"Integer\",\"data\":{}}}}}", count)
            };
            emit(out, &[body.as_bytes()], true);
            0
        }
    }
}

// ───────────────────────────── JSON parsing ─────────────────────────────
//
// A strict RFC 8259 recursive-descent parser over already-validated UTF-8,
// driven by the shape expected at each point, so no tree is ever built.
// When a Message envelope names its `type` before `data` (the usual order),
// `data` is read once with the shape its variant demands. When `data` comes
// first it is checked for syntax only, then re-read once with that shape.
// Messages do not nest, so every byte is read at most twice and parsing
// stays linear.

/// Nesting limit: like serde_json, the 128th level of `[`/`{` is refused.
const MAX_DEPTH: u32 = 128;

/// One input port of the payload: its decoded name and the byte range of
/// its Message in the payload text.
struct Port {
    name: String,
    start: usize,
    end: usize,
}

struct ParseError {
    message: String,
    pos: usize,
}

type PResult<T> = Result<T, ParseError>;

impl ParseError {
    fn render(&self, text: &[u8]) -> String {
        let pos = self.pos.min(text.len());
        let before = text.get(..pos).unwrap_or(&[]);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let column = if pos < text.len() {
            pos - line_start + 1
        } else {
            pos - line_start
        };
        format!(
            "parse payload: {} at line {} column {}",
            self.message, line, column
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
    Arr,
    Obj,
}

/// What a value turned out to be, and where it lies.
#[derive(Clone, Copy)]
struct Val {
    kind: Kind,
    start: usize,
    end: usize,
}

/// The shape expected of a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Any,
    Bool,
    Str,
    I64,
    F64,
    U8,
    /// `[u8]`
    Bytes,
    /// `{"data": [u8]}`
    Encodable,
    /// `[EncodableValue]`
    EncodableSeq,
    /// `null` or an EncodableValue
    OptionalEncodable,
    RemoteRef,
    NetEvent,
    /// opaque: any object
    StreamHandle,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Flow,
    Event,
    Boolean,
    Integer,
    Float,
    String,
    Object,
    Array,
    Bytes,
    StreamHandle,
    Encoded,
    Optional,
    Any,
    Error,
    RemoteReference,
    NetworkEvent,
}

const VARIANTS: [(&str, Variant); 16] = [
    ("Flow", Variant::Flow),
    ("Event", Variant::Event),
    ("Boolean", Variant::Boolean),
    ("Integer", Variant::Integer),
    ("Float", Variant::Float),
    ("String", Variant::String),
    ("Object", Variant::Object),
    ("Array", Variant::Array),
    ("Bytes", Variant::Bytes),
    ("StreamHandle", Variant::StreamHandle),
    ("Encoded", Variant::Encoded),
    ("Optional", Variant::Optional),
    ("Any", Variant::Any),
    ("Error", Variant::Error),
    ("RemoteReference", Variant::RemoteReference),
    ("NetworkEvent", Variant::NetworkEvent),
];

const EVENT_TYPES: [&str; 5] = [
    "ActorRegistered",
    "ActorUnregistered",
    "NetworkConnected",
    "NetworkDisconnected",
    "HeartbeatMissed",
];

/// The shape of `data` for a variant; `None` when the variant has none.
fn data_shape(variant: Variant) -> Option<Shape> {
    Some(match variant {
        Variant::Flow => return None,
        Variant::Boolean if cfg!(mutant = "lax-boolean") => Shape::Any,
        Variant::Boolean => Shape::Bool,
        Variant::String | Variant::Error => Shape::Str,
        Variant::Integer => Shape::I64,
        Variant::Float => Shape::F64,
        Variant::Bytes | Variant::Encoded => Shape::Bytes,
        Variant::Event | Variant::Object | Variant::Any => Shape::Encodable,
        Variant::Array => Shape::EncodableSeq,
        Variant::Optional => Shape::OptionalEncodable,
        Variant::RemoteReference => Shape::RemoteRef,
        Variant::NetworkEvent => Shape::NetEvent,
        Variant::StreamHandle => Shape::StreamHandle,
    })
}

fn one_of(names: &[&str]) -> String {
    let mut s = String::new();
    for (n, name) in names.iter().enumerate() {
        if n > 0 {
            s.push_str(", ");
        }
        s.push('`');
        s.push_str(name);
        s.push('`');
    }
    s
}

/// Sign and magnitude of a JSON integer literal; `None` past u64.
fn integer_parts(text: &[u8]) -> Option<(bool, u64)> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut magnitude: u64 = 0;
    for &d in digits {
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add((d.wrapping_sub(b'0')) as u64)?;
    }
    Some((negative, magnitude))
}

fn number_as_f64(text: &[u8]) -> f64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
    /// The most recently decoded string (keys, `type`, `event_type`).
    key: Vec<u8>,
}

impl<'a> Parser<'a> {
    fn new(s: &'a [u8]) -> Parser<'a> {
        Parser {
            s,
            i: 0,
            depth: 0,
            key: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn err<T>(&self, message: impl Into<String>, pos: usize) -> PResult<T> {
        Err(ParseError {
            message: message.into(),
            pos,
        })
    }

    fn text(&self, v: Val) -> &'a [u8] {
        self.s.get(v.start..v.end).unwrap_or(&[])
    }

    fn key_is(&self, name: &str) -> bool {
        self.key.as_slice() == name.as_bytes()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return self.err("recursion limit exceeded", self.i);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ── the payload: {"input": {port: Message, ...}, ...}

    fn payload(mut self) -> PResult<Vec<Port>> {
        let mut ports = Vec::new();
        self.ws();
        if self.peek() != Some(b'{') {
            let v = self.generic()?;
            return self.invalid_type(v, "struct ActorRunPayload");
        }
        let mut seen_input = false;
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            if self.key_is("input") {
                if seen_input {
                    return self.err("duplicate field `input`", self.i);
                }
                seen_input = true;
                self.input(&mut ports)?;
            } else {
                self.generic()?;
            }
            more = self.obj_next()?;
        }
        self.ws();
        if self.i < self.s.len() {
            return self.err("trailing characters", self.i);
        }
        Ok(ports)
    }

    fn input(&mut self, ports: &mut Vec<Port>) -> PResult<()> {
        self.ws();
        if self.peek() != Some(b'{') {
            let v = self.generic()?;
            return self.invalid_type(v, "a map");
        }
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            let name = String::from_utf8_lossy(&self.key).into_owned();
            self.ws();
            let start = self.i;
            self.message()?;
            ports.push(Port {
                name,
                start,
                end: self.i,
            });
            more = self.obj_next()?;
        }
        Ok(())
    }

    // ── a Message: {"type": "<Variant>", "data": ...}

    fn message(&mut self) -> PResult<()> {
        self.ws();
        if self.peek() != Some(b'{') {
            let v = self.generic()?;
            return self.invalid_type(v, "adjacently tagged enum Message");
        }
        let mut variant: Option<Variant> = None;
        let mut data_at: Option<usize> = None;
        let mut data_checked = false;
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            if self.key_is("type") {
                if variant.is_some() {
                    return self.err("duplicate field `type`", self.i);
                }
                self.ws();
                if self.peek() == Some(b'"') {
                    self.string(true)?;
                    let found = VARIANTS.iter().find(|(name, _)| self.key_is(name));
                    match found {
                        Some(&(_, v)) => variant = Some(v),
                        None => {
                            let names: Vec<&str> = VARIANTS.iter().map(|(n, _)| *n).collect();
                            let message = format!(
                                "unknown variant `{}`, expected one of {}",
                                String::from_utf8_lossy(&self.key),
                                one_of(&names)
                            );
                            return self.err(message, self.i);
                        }
                    }
                } else {
                    let v = self.generic()?;
                    return self.invalid_type(v, "variant identifier");
                }
            } else if self.key_is("data") {
                if data_at.is_some() {
                    return self.err("duplicate field `data`", self.i);
                }
                self.ws();
                data_at = Some(self.i);
                match variant.and_then(data_shape) {
                    // `type` came first: read `data` with its shape straight away.
                    Some(shape) => {
                        self.value(shape)?;
                        data_checked = true;
                    }
                    None => {
                        self.generic()?;
                    }
                }
            } else {
                self.generic()?;
            }
            more = self.obj_next()?;
        }
        let variant = match variant {
            Some(v) => v,
            None => return self.err("missing field `type`", self.i),
        };
        let shape = match data_shape(variant) {
            Some(shape) => shape,
            None => return Ok(()),
        };
        let data_at = match data_at {
            Some(at) => at,
            None => return self.err("missing field `data`", self.i),
        };
        if data_checked {
            return Ok(());
        }
        // `data` came before `type`: a second, typed read of it, one level
        // inside the envelope as the first read was.
        let resume = self.i;
        self.i = data_at;
        self.depth += 1;
        self.value(shape)?;
        self.depth -= 1;
        self.i = resume;
        Ok(())
    }

    // ── values of an expected shape

    fn value(&mut self, shape: Shape) -> PResult<Val> {
        self.ws();
        let start = self.i;
        let opener = self.peek();
        match shape {
            Shape::Any => self.generic(),
            Shape::Bool => {
                let v = self.generic()?;
                match v.kind {
                    Kind::Bool(_) => Ok(v),
                    _ => self.invalid_type(v, "a boolean"),
                }
            }
            Shape::Str => {
                let v = self.generic()?;
                match v.kind {
                    Kind::Str => Ok(v),
                    _ => self.invalid_type(v, "a string"),
                }
            }
            Shape::I64 => {
                let v = self.generic()?;
                match v.kind {
                    Kind::Int => self.check_i64(v),
                    _ => self.invalid_type(v, "i64"),
                }
            }
            Shape::F64 => {
                let v = self.generic()?;
                match v.kind {
                    Kind::Int | Kind::Float => {
                        if number_as_f64(self.text(v)).is_finite() {
                            Ok(v)
                        } else {
                            self.err("number out of range", v.start)
                        }
                    }
                    _ => self.invalid_type(v, "f64"),
                }
            }
            Shape::U8 => {
                // Fast path for the common case: 1 to 3 plain digits, <= 255.
                if let Some(first @ b'0'..=b'9') = opener {
                    let mut value = (first - b'0') as u32;
                    let mut j = start + 1;
                    if first != b'0' {
                        while let Some(&d @ b'0'..=b'9') = self.s.get(j) {
                            value = value * 10 + (d - b'0') as u32;
                            j += 1;
                            if value > 255 {
                                break;
                            }
                        }
                    }
                    let plain_end = !matches!(self.s.get(j), Some(b'.' | b'e' | b'E' | b'0'..=b'9'));
                    if plain_end && value <= 255 {
                        self.i = j;
                        return Ok(Val {
                            kind: Kind::Int,
                            start,
                            end: j,
                        });
                    }
                }
                let v = self.generic()?;
                match v.kind {
                    Kind::Int => match integer_parts(self.text(v)) {
                        Some((false, m)) if m <= 255 => Ok(v),
                        Some((true, 0)) => self.invalid_type(
                            Val {
                                kind: Kind::Float,
                                ..v
                            },
                            "u8",
                        ),
                        _ => self.invalid_value(v, "u8"),
                    },
                    _ => self.invalid_type(v, "u8"),
                }
            }
            Shape::Bytes | Shape::EncodableSeq if opener == Some(b'[') => {
                let element = if shape == Shape::Bytes {
                    Shape::U8
                } else {
                    Shape::Encodable
                };
                self.array(element)?;
                Ok(Val {
                    kind: Kind::Arr,
                    start,
                    end: self.i,
                })
            }
            Shape::Bytes | Shape::EncodableSeq => {
                let v = self.generic()?;
                self.invalid_type(v, "a sequence")
            }
            Shape::OptionalEncodable if opener == Some(b'n') => self.generic(),
            Shape::Encodable | Shape::OptionalEncodable => {
                self.structure(shape, opener, start, "struct EncodableValue")
            }
            Shape::RemoteRef => self.structure(shape, opener, start, "struct RemoteReference"),
            Shape::NetEvent => self.structure(shape, opener, start, "struct NetworkEvent"),
            Shape::StreamHandle => self.structure(shape, opener, start, "struct StreamHandle"),
        }
    }

    /// An object-shaped value; anything else is an invalid type.
    fn structure(&mut self, shape: Shape, opener: Option<u8>, start: usize, expected: &str) -> PResult<Val> {
        if opener != Some(b'{') {
            let v = self.generic()?;
            return self.invalid_type(v, expected);
        }
        match shape {
            Shape::RemoteRef => self.remote_reference()?,
            Shape::NetEvent => self.network_event()?,
            Shape::StreamHandle => self.any_object()?,
            _ => self.encodable()?,
        }
        Ok(Val {
            kind: Kind::Obj,
            start,
            end: self.i,
        })
    }

    fn check_i64(&self, v: Val) -> PResult<Val> {
        let text = self.text(v);
        if cfg!(mutant = "integer-via-f64") {
            // Only what a double holds exactly (|n| < 2^53) survives.
            let f = number_as_f64(text);
            let negative_zero = f == 0.0 && text.first() == Some(&b'-');
            if f.is_finite() && f.abs() < 9007199254740992.0 && !negative_zero {
                return Ok(v);
            }
            return self.invalid_value(v, "i64");
        }
        match integer_parts(text) {
            // `-0` reads as a float in serde_json.
            Some((true, 0)) => self.invalid_type(
                Val {
                    kind: Kind::Float,
                    ..v
                },
                "i64",
            ),
            Some((true, m)) if m <= 1u64 << 63 => Ok(v),
            Some((false, m)) if m <= i64::MAX as u64 => Ok(v),
            _ => self.invalid_value(v, "i64"),
        }
    }

    fn encodable(&mut self) -> PResult<()> {
        let mut seen_data = false;
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            if self.key_is("data") {
                if seen_data {
                    return self.err("duplicate field `data`", self.i);
                }
                seen_data = true;
                self.value(Shape::Bytes)?;
            } else {
                self.generic()?;
            }
            more = self.obj_next()?;
        }
        if !seen_data {
            return self.err("missing field `data`", self.i);
        }
        Ok(())
    }

    fn remote_reference(&mut self) -> PResult<()> {
        const FIELDS: [&str; 3] = ["network_id", "actor_id", "port"];
        let mut seen = [false; 3];
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            match FIELDS.iter().position(|f| self.key_is(f)) {
                Some(n) => {
                    if let Some(flag) = seen.get_mut(n) {
                        if *flag {
                            return self.err(format!("duplicate field `{}`", FIELDS[n]), self.i);
                        }
                        *flag = true;
                    }
                    self.value(Shape::Str)?;
                }
                None => {
                    self.generic()?;
                }
            }
            more = self.obj_next()?;
        }
        for (field, present) in FIELDS.iter().zip(seen.iter()) {
            if !present {
                return self.err(format!("missing field `{}`", field), self.i);
            }
        }
        Ok(())
    }

    fn network_event(&mut self) -> PResult<()> {
        let mut seen_type = false;
        let mut seen_data = false;
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(true)?;
            if self.key_is("event_type") {
                if seen_type {
                    return self.err("duplicate field `event_type`", self.i);
                }
                seen_type = true;
                self.ws();
                if self.peek() != Some(b'"') {
                    let v = self.generic()?;
                    return self.invalid_type(v, "variant identifier");
                }
                self.string(true)?;
                if !EVENT_TYPES.iter().any(|t| self.key_is(t)) {
                    let message = format!(
                        "unknown variant `{}`, expected one of {}",
                        String::from_utf8_lossy(&self.key),
                        one_of(&EVENT_TYPES)
                    );
                    return self.err(message, self.i);
                }
            } else if self.key_is("data") {
                if seen_data {
                    return self.err("duplicate field `data`", self.i);
                }
                seen_data = true;
                self.value(Shape::Encodable)?;
            } else {
                self.generic()?;
            }
            more = self.obj_next()?;
        }
        if !seen_type {
            return self.err("missing field `event_type`", self.i);
        }
        if !seen_data {
            return self.err("missing field `data`", self.i);
        }
        Ok(())
    }

    // ── error messages in serde's words, quoting the offending input

    fn describe(&self, v: Val) -> String {
        match v.kind {
            Kind::Null => "null".to_string(),
            Kind::Bool(b) => format!("boolean `{}`", b),
            Kind::Int => format!("integer `{}`", String::from_utf8_lossy(self.text(v))),
            Kind::Float => format!("floating point `{}`", String::from_utf8_lossy(self.text(v))),
            Kind::Str => {
                let mut again = Parser::new(self.s);
                again.i = v.start;
                let decoded = match again.string(true) {
                    Ok(()) => match String::from_utf8(std::mem::take(&mut again.key)) {
                        Ok(text) => text,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    },
                    Err(_) => String::new(),
                };
                let mut quoted = String::with_capacity(decoded.len() + 9);
                quoted.push_str("string ");
                push_debug_string(&mut quoted, &decoded);
                quoted
            }
            Kind::Arr => "sequence".to_string(),
            Kind::Obj => "map".to_string(),
        }
    }

    fn invalid_type<T>(&self, v: Val, expected: &str) -> PResult<T> {
        let pos = match v.kind {
            Kind::Arr | Kind::Obj => v.start,
            _ => v.end,
        };
        self.err(
            format!("invalid type: {}, expected {}", self.describe(v), expected),
            pos,
        )
    }

    fn invalid_value<T>(&self, v: Val, expected: &str) -> PResult<T> {
        self.err(
            format!("invalid value: {}, expected {}", self.describe(v), expected),
            v.end,
        )
    }

    // ── plain JSON syntax

    fn generic(&mut self) -> PResult<Val> {
        self.ws();
        let start = self.i;
        let kind = match self.peek() {
            None => return self.err("EOF while parsing a value", start),
            Some(b'n') => self.literal(b"null", Kind::Null)?,
            Some(b't') => self.literal(b"true", Kind::Bool(true))?,
            Some(b'f') => self.literal(b"false", Kind::Bool(false))?,
            Some(b'"') => {
                self.string(false)?;
                Kind::Str
            }
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'[') => {
                self.array(Shape::Any)?;
                Kind::Arr
            }
            Some(b'{') => {
                self.any_object()?;
                Kind::Obj
            }
            Some(_) => return self.err("expected value", start),
        };
        Ok(Val {
            kind,
            start,
            end: self.i,
        })
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> PResult<Kind> {
        for &expected in word {
            match self.peek() {
                Some(c) if c == expected => self.i += 1,
                None => return self.err("EOF while parsing a value", self.i),
                Some(_) => return self.err("expected ident", self.i),
            }
        }
        Ok(kind)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn required_digits(&mut self) -> PResult<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            None => self.err("EOF while parsing a value", self.i),
            Some(_) => self.err("invalid number", self.i),
        }
    }

    fn number(&mut self) -> PResult<Kind> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.err("invalid number", self.i);
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            None => return self.err("EOF while parsing a value", self.i),
            Some(_) => return self.err("invalid number", self.i),
        }
        let mut kind = Kind::Int;
        if self.peek() == Some(b'.') {
            self.i += 1;
            kind = Kind::Float;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            kind = Kind::Float;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.required_digits()?;
        }
        Ok(kind)
    }

    /// A string at `"`; with `decode`, its value lands in `self.key`.
    fn string(&mut self, decode: bool) -> PResult<()> {
        self.i += 1;
        if decode {
            self.key.clear();
        }
        loop {
            let run = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            if decode {
                self.key.extend_from_slice(self.s.get(run..self.i).unwrap_or(&[]));
            }
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(decode)?;
                }
                Some(_) => {
                    return self.err(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                        self.i,
                    )
                }
                None => return self.err("EOF while parsing a string", self.i),
            }
        }
    }

    fn escape(&mut self, decode: bool) -> PResult<()> {
        let at = self.i;
        let c = match self.peek() {
            Some(c) => c,
            None => return self.err("EOF while parsing a string", at),
        };
        self.i += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if self.peek() == Some(b'\\') && self.s.get(self.i + 1) == Some(&b'u') {
                        self.i += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&second) {
                            return self.err("lone leading surrogate in hex escape", self.i);
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    } else {
                        return self.err("lone leading surrogate in hex escape", self.i);
                    }
                } else if (0xDC00..0xE000).contains(&first) {
                    return self.err("lone trailing surrogate in hex escape", self.i);
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some(ch) => ch,
                    None => return self.err("invalid unicode code point", self.i),
                }
            }
            _ => return self.err("invalid escape", at),
        };
        if decode {
            let mut buf = [0u8; 4];
            self.key.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        Ok(())
    }

    fn hex4(&mut self) -> PResult<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                Some(_) => return self.err("invalid escape", self.i),
                None => return self.err("EOF while parsing a string", self.i),
            };
            value = value * 16 + digit as u32;
            self.i += 1;
        }
        Ok(value)
    }

    fn array(&mut self, element: Shape) -> PResult<()> {
        self.enter()?;
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.leave();
            return Ok(());
        }
        loop {
            self.value(element)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        return self.err("trailing comma", self.i);
                    }
                }
                Some(b']') => {
                    self.i += 1;
                    self.leave();
                    return Ok(());
                }
                None => return self.err("EOF while parsing a list", self.i),
                Some(_) => return self.err("expected `,` or `]`", self.i),
            }
        }
    }

    /// Consumes `{`; false when the object is empty (and already closed).
    fn obj_begin(&mut self) -> PResult<bool> {
        self.enter()?;
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.leave();
            return Ok(false);
        }
        Ok(true)
    }

    /// `"key" :`; with `decode`, the key lands in `self.key`.
    fn obj_key(&mut self, decode: bool) -> PResult<()> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string(decode)?,
            None => return self.err("EOF while parsing an object", self.i),
            Some(_) => return self.err("key must be a string", self.i),
        }
        self.ws();
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(())
            }
            None => self.err("EOF while parsing an object", self.i),
            Some(_) => self.err("expected `:`", self.i),
        }
    }

    /// After a member's value: true when another member follows.
    fn obj_next(&mut self) -> PResult<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    return self.err("trailing comma", self.i);
                }
                Ok(true)
            }
            Some(b'}') => {
                self.i += 1;
                self.leave();
                Ok(false)
            }
            None => self.err("EOF while parsing an object", self.i),
            Some(_) => self.err("expected `,` or `}`", self.i),
        }
    }

    fn any_object(&mut self) -> PResult<()> {
        let mut more = self.obj_begin()?;
        while more {
            self.obj_key(false)?;
            self.generic()?;
            more = self.obj_next()?;
        }
        Ok(())
    }
}
