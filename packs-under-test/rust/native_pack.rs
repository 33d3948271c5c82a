//! packcheck native pack: a single-file, std-only Rust cdylib for x86_64
//! Linux that implements the pack side of the Reflow *vtable ABI* as
//! `shared/ABI.md` ("The vtable ABI (native)") describes it, with the 0.2.1
//! defect fixed: the pack's own `BadUtf8` failure is sticky like any other
//! first failure instead of overwriting an earlier host rejection.
//!
//! It is the "known good" subject of the native conformance properties. Each
//! mutant (selected with `--cfg 'mutant="NAME"'`) is this same pack with one
//! planted defect, so that the harness can be shown to catch it. Mutant hooks
//! are `cfg!(mutant = ...)` tests or `#[cfg]` on single items, so the
//! reference path reads straight through.
//!
//! Build (Debian's rustc 1.63):
//!
//! ```text
//! PACKCHECK_ABI_VERSION=2522422 /usr/bin/rustc --edition 2021 --crate-type cdylib \
//!     --crate-name native_pack -C opt-level=2 -C debuginfo=0 \
//!     [--cfg 'mutant="NAME"'] -o libnative.so packs-under-test/rust/native_pack.rs
//! ```
//!
//! Exports: `reflow_pack_abi_version() -> u32` and
//! `reflow_pack_register(host: *mut PackHostVtable) -> i32`.
//!
//! Templates registered, always in this order: `native.echo`,
//! `native.counter`, `native.sink`, `native.clock`. Each registration hands
//! the host a fresh heap block (`Box<Factory>`, from the default global
//! allocator, i.e. malloc) as `user_data`; `factory(user_data)` answers a
//! fresh boxed `Actor` on every call, `drop(user_data)` frees the block.
//!
//! Defect mutants: null-host-crash, host-data-changed, null-drop,
//! status-nonzero, last-failure-wins, stop-on-reject, leak-rejected,
//! double-free-rejected, free-accepted, duplicate-id, nondeterministic,
//! factory-null, factory-same-handle, drop-noop, crash-on-reject,
//! version-unstable, version-wrong-revision, wrong-entrypoint, bad-utf8-id,
//! hang-on-reject, drop-double-free, ctor-hang, ctor-crash, missing-dep.
//!
//! Probe (NOT a defect): panic-in-register — the author-level register
//! function panics after two registrations; a correct pack catches the panic
//! and answers -99 (`Internal`), which this build does.

use std::ffi::{c_void, CStr, CString};
use std::os::raw::c_char;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

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
static VERSION_CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[no_mangle]
pub extern "C" fn reflow_pack_abi_version() -> u32 {
    #[cfg(mutant = "version-unstable")]
    {
        if VERSION_CALLS.fetch_add(1, Ordering::SeqCst) >= 1 {
            return ABI_VERSION.wrapping_add(1);
        }
    }
    if cfg!(mutant = "version-wrong-revision") {
        return ABI_VERSION ^ 1;
    }
    #[cfg(mutant = "missing-dep")]
    {
        return ABI_VERSION ^ unsafe { packcheck_missing_dep() };
    }
    ABI_VERSION
}

// ───────────────────────────── C types ─────────────────────────────

/// `PackRegisterStatus` codes.
const STATUS_OK: i32 = 0;
const STATUS_NULL_ARG: i32 = -1;
const STATUS_BAD_UTF8: i32 = -2;
const STATUS_INTERNAL: i32 = -99;

pub type PackFactoryFn = unsafe extern "C" fn(user_data: *mut c_void) -> *mut c_void;
pub type PackFactoryDropFn = unsafe extern "C" fn(user_data: *mut c_void);
pub type RegisterTemplateFn = unsafe extern "C" fn(
    host_data: *mut c_void,
    template_id: *const c_char,
    factory: Option<PackFactoryFn>,
    drop: Option<PackFactoryDropFn>,
    factory_user_data: *mut c_void,
) -> i32;

/// The host's vtable: 16 bytes on x86_64, `host_data` at 0, the function
/// pointer at 8 (a nullable pointer, hence `Option`).
#[repr(C)]
pub struct PackHostVtable {
    pub host_data: *mut c_void,
    pub register_template: Option<RegisterTemplateFn>,
}

#[cfg(any(mutant = "double-free-rejected", mutant = "drop-double-free"))]
extern "C" {
    fn free(p: *mut c_void);
}

// ───────────────────────────── load-time mutants ─────────────────────────────

/// ctor-hang: an ELF constructor (run by dlopen) that never returns.
#[cfg(mutant = "ctor-hang")]
extern "C" fn constructor_hangs() {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
#[cfg(mutant = "ctor-hang")]
#[used]
#[link_section = ".init_array"]
static CONSTRUCTOR: extern "C" fn() = constructor_hangs;

/// ctor-crash: an ELF constructor that writes through a null pointer.
#[cfg(mutant = "ctor-crash")]
extern "C" fn constructor_crashes() {
    unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u32>(), 0xdead) };
}
#[cfg(mutant = "ctor-crash")]
#[used]
#[link_section = ".init_array"]
static CONSTRUCTOR: extern "C" fn() = constructor_crashes;

// missing-dep: needs libpackcheck_missing_dep.so, a stub the build links
// against in a temporary folder and then deletes (packs-under-test/build.ts).
#[cfg(mutant = "missing-dep")]
#[link(name = "packcheck_missing_dep")]
extern "C" {
    fn packcheck_missing_dep() -> u32;
}

// ───────────────────────────── actors and factories ─────────────────────────────

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ActorKind {
    Echo,
    Counter,
    Sink,
    Clock,
}

/// What a handle points at. Opaque to the host: it may only check that the
/// pointer is non-null. Handles are never freed by the host.
#[allow(dead_code)]
struct Actor {
    kind: ActorKind,
    /// 1-based instance number within its factory.
    serial: u64,
    /// Per-instance state (the counter's tick count, the clock's ticks...).
    state: u64,
}

/// The `user_data` block of one registration (never zero-sized, so
/// `Box::new` really allocates).
struct Factory {
    kind: ActorKind,
    /// How many actors this factory has made.
    made: AtomicU64,
    /// factory-same-handle: the one handle this factory keeps answering.
    #[allow(dead_code)]
    cached: AtomicPtr<Actor>,
}

impl Factory {
    fn new(kind: ActorKind) -> Factory {
        Factory {
            kind,
            made: AtomicU64::new(0),
            cached: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    fn make(&self) -> *mut Actor {
        let serial = self.made.fetch_add(1, Ordering::Relaxed) + 1;
        Box::into_raw(Box::new(Actor {
            kind: self.kind,
            serial,
            state: 0,
        }))
    }
}

/// `PackFactoryFn`: a fresh, non-null handle on every call.
unsafe extern "C" fn factory_trampoline(user_data: *mut c_void) -> *mut c_void {
    if user_data.is_null() || cfg!(mutant = "factory-null") {
        return std::ptr::null_mut();
    }
    let factory = &*(user_data as *const Factory);
    if cfg!(mutant = "factory-same-handle") {
        let cached = factory.cached.load(Ordering::Acquire);
        if !cached.is_null() {
            return cached as *mut c_void;
        }
        let fresh = factory.make();
        return match factory.cached.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh as *mut c_void,
            Err(other) => {
                drop(Box::from_raw(fresh));
                other as *mut c_void
            }
        };
    }
    factory.make() as *mut c_void
}

/// `PackFactoryDropFn`: frees the `user_data` block exactly once.
unsafe extern "C" fn drop_trampoline(user_data: *mut c_void) {
    if user_data.is_null() || cfg!(mutant = "drop-noop") {
        return;
    }
    free_user_data(user_data);
    // drop-double-free: frees the block a second time (glibc aborts).
    #[cfg(mutant = "drop-double-free")]
    free(user_data);
}

/// Frees a `user_data` block made by `PackHost::register`. A cached handle
/// (factory-same-handle only) stays alive: the host may still hold it.
unsafe fn free_user_data(user_data: *mut c_void) {
    drop(Box::from_raw(user_data as *mut Factory));
}

// ───────────────────────────── registration ─────────────────────────────

/// The author-facing registration context: wraps the host's vtable and
/// keeps the pack's sticky status.
struct PackHost {
    host_data: *mut c_void,
    register_template: RegisterTemplateFn,
    status: i32,
    /// stop-on-reject: set after the first rejection.
    stopped: bool,
}

impl PackHost {
    /// Records a failure: the first non-zero status in call order wins.
    fn fail(&mut self, status: i32) {
        if self.status == STATUS_OK || cfg!(mutant = "last-failure-wins") {
            self.status = status;
        }
    }

    /// Registers `template_id` with a fresh factory of `kind`. An id with an
    /// interior NUL never reaches the host: it is the pack's own `BadUtf8`.
    fn register(&mut self, template_id: &str, kind: ActorKind) {
        match CString::new(template_id) {
            Ok(id) => self.register_cstr(&id, kind),
            Err(_) => self.fail(STATUS_BAD_UTF8),
        }
    }

    /// Hands one registration to the host. `template_id` only has to live
    /// for the duration of the call.
    fn register_cstr(&mut self, template_id: &CStr, kind: ActorKind) {
        if self.stopped {
            return;
        }
        let user_data = Box::into_raw(Box::new(Factory::new(kind))) as *mut c_void;
        let host_data = if cfg!(mutant = "host-data-changed") {
            (self.host_data as *mut u8).wrapping_add(1) as *mut c_void
        } else {
            self.host_data
        };
        let drop_fn: Option<PackFactoryDropFn> = if cfg!(mutant = "null-drop") {
            None
        } else {
            Some(drop_trampoline)
        };
        let answer = unsafe {
            (self.register_template)(
                host_data,
                template_id.as_ptr(),
                Some(factory_trampoline),
                drop_fn,
                user_data,
            )
        };
        if answer == STATUS_OK {
            // Ownership of user_data passed to the host.
            if cfg!(mutant = "free-accepted") {
                unsafe { free_user_data(user_data) };
            }
            return;
        }
        // Rejected: the host does not own user_data, so the pack frees it.
        self.fail(answer);
        if cfg!(mutant = "crash-on-reject") {
            unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u32>(), 0xdead) };
        }
        if cfg!(mutant = "hang-on-reject") {
            // Never returns from register once a registration is rejected.
            loop {
                std::hint::spin_loop();
            }
        }
        if cfg!(mutant = "stop-on-reject") {
            self.stopped = true;
        }
        if !cfg!(mutant = "leak-rejected") {
            unsafe { free_user_data(user_data) };
        }
        #[cfg(mutant = "double-free-rejected")]
        unsafe {
            free(user_data)
        };
    }
}

/// The fixed template list, in registration order.
const TEMPLATES: [(&str, ActorKind); 4] = [
    ("native.echo", ActorKind::Echo),
    ("native.counter", ActorKind::Counter),
    ("native.sink", ActorKind::Sink),
    ("native.clock", ActorKind::Clock),
];

/// bad-utf8-id: the bytes sent in place of `native.sink` (0xff 0xfe is not
/// UTF-8).
#[cfg(mutant = "bad-utf8-id")]
const BAD_UTF8_ID: &[u8] = b"native.\xff\xfe\0";

/// nondeterministic: a permutation of 0..4 chosen once per loaded image
/// from a load counter kept in a file under /tmp, so any two consecutive
/// loads (two processes, or two images in one) register in different orders.
/// It is never the identity (the reference order).
#[cfg(mutant = "nondeterministic")]
fn registration_order() -> [usize; 4] {
    static mut ORDER: Option<[usize; 4]> = None;
    // SAFETY: registration runs on the host's one calling thread.
    unsafe {
        if let Some(o) = ORDER {
            return o;
        }
        let path = "/tmp/packcheck-nondeterministic-mutant.count";
        let count: usize = std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        let _ = std::fs::write(path, format!("{}", count.wrapping_add(1)));
        // 23 non-identity permutations: Lehmer code of 1..=23; consecutive loads differ.
        let mut code = 1 + count % 23;
        let mut pool: Vec<usize> = (0..4).collect();
        let mut order = [0usize; 4];
        let radices = [6usize, 2, 1, 1];
        for (n, radix) in radices.iter().enumerate() {
            let pick = code / radix;
            code %= radix;
            order[n] = pool.remove(pick);
        }
        ORDER = Some(order);
        order
    }
}

#[cfg(not(mutant = "nondeterministic"))]
fn registration_order() -> [usize; 4] {
    [0, 1, 2, 3]
}

/// The author-level register function: what a pack author writes against
/// the SDK.
fn register_templates(host: &mut PackHost) {
    for (n, &at) in registration_order().iter().enumerate() {
        let (id, kind) = TEMPLATES[at];
        #[cfg(mutant = "bad-utf8-id")]
        {
            if kind == ActorKind::Sink {
                let raw = unsafe { CStr::from_bytes_with_nul_unchecked(BAD_UTF8_ID) };
                host.register_cstr(raw, kind);
                continue;
            }
        }
        host.register(id, kind);
        if cfg!(mutant = "panic-in-register") && n == 1 {
            panic!("panic-in-register probe: author register function panics after two templates");
        }
    }
    if cfg!(mutant = "duplicate-id") {
        host.register("native.echo", ActorKind::Echo);
    }
}

#[cfg_attr(not(mutant = "wrong-entrypoint"), no_mangle)]
#[cfg_attr(mutant = "wrong-entrypoint", export_name = "reflow_pack_register_v2")]
pub unsafe extern "C" fn reflow_pack_register(host: *mut PackHostVtable) -> i32 {
    let register_template = if cfg!(mutant = "null-host-crash") {
        // Reads the vtable without looking: faults on NULL.
        std::ptr::read_volatile(std::ptr::addr_of!((*host).register_template))
    } else {
        if host.is_null() {
            return STATUS_NULL_ARG;
        }
        (*host).register_template
    };
    let register_template = match register_template {
        Some(f) => f,
        None => return STATUS_NULL_ARG,
    };
    let mut pack_host = PackHost {
        host_data: (*host).host_data,
        register_template,
        status: STATUS_OK,
        stopped: false,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        register_templates(&mut pack_host);
    }));
    match outcome {
        Err(_) => STATUS_INTERNAL,
        Ok(()) if cfg!(mutant = "status-nonzero") => STATUS_INTERNAL,
        Ok(()) => pack_host.status,
    }
}
