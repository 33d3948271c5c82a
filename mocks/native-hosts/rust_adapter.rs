//! A native host adapter for `packcheck host --native`, in Rust: a small
//! vtable ABI loader and the adapter contract around it (README, "Checking a
//! native host"). Where the C adapter (adapter.c) must leave each actor handle
//! allocated, this one does what a Rust runtime does with it: it takes the
//! pointer a factory returns as a `Box<PackActorHandle>` holding an
//! `Arc<dyn Actor>` and drops it, so a run shows that the probe packs'
//! handles survive a Rust host's drop glue.
//!
//! Std only (Debian's rustc 1.63: no OnceLock, no let-else). native-hosts.ts
//! builds it with
//!
//! ```text
//! PACKCHECK_HOST_ABI=2522422 rustc --edition 2021 -O -o rust-adapter mocks/native-hosts/rust_adapter.rs
//! ```
//!
//! `PACKCHECK_HOST_ABI` is this host's ABI version, compiled in as a
//! runtime's is (ABI.md, "ABI version handshake": the version of the rustc
//! that built it).
//!
//! Two mutants, for the tests (`--cfg 'mutant="…"'`):
//! - `drop-after-unload` keeps each handle until its pack is unloaded and
//!   drops it then. The drop reads into the pack's image, now unmapped, so
//!   that adapter crashes: what shows the reference host's drop is real.
//! - `drop-twice` drops each handle a second time: the freed box is read,
//!   then freed again, which glibc's own heap checks must catch in a run
//!   without the tracker (the tracker counts only the registrations' blocks).

use std::ffi::{CStr, CString};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

// ---------------------------------------------------------------------------
// The vtable ABI, host side (ABI.md, "The vtable ABI (native)")
// ---------------------------------------------------------------------------

/// Status codes a host answers `register_template` with.
const OK: i32 = 0;
const NULL_ARG: i32 = -1;
const BAD_UTF8: i32 = -2;
const DUPLICATE: i32 = -3;
const INTERNAL: i32 = -99;

/// The actor trait, as far as a host that never calls an actor needs it. A
/// trait object's vtable starts with drop_in_place, size and align, in every
/// trait; the methods come after. This host calls none, so an empty trait
/// reads the same first three slots as the SDK's `Actor` does (the probes
/// lay their vtable out that way, with every method slot trapping).
trait Actor: Send + Sync {}

/// What a pack's factory returns, boxed: the SDK's `PackActorHandle`, one
/// `Arc<dyn Actor>` (a pointer to the Arc's inner block, a pointer to the
/// trait object's vtable).
#[repr(C)]
struct PackActorHandle {
    /// Never read: holding it, then dropping it, is all a host does here.
    #[allow(dead_code)]
    actor: Arc<dyn Actor>,
}

type FactoryFn = unsafe extern "C" fn(user_data: *mut c_void) -> *mut PackActorHandle;
type DropFn = unsafe extern "C" fn(user_data: *mut c_void);
/// Both function pointers may arrive null: `Option` of a fn pointer is the
/// nullable C pointer, so a null one is seen as `None`, never called.
type RegisterTemplateFn = unsafe extern "C" fn(
    host_data: *mut c_void,
    template_id: *const c_char,
    factory: Option<FactoryFn>,
    drop: Option<DropFn>,
    user_data: *mut c_void,
) -> i32;

#[repr(C)]
struct PackHostVtable {
    host_data: *mut c_void,
    register_template: Option<RegisterTemplateFn>,
}

type VersionFn = unsafe extern "C" fn() -> u32;
type RegisterFn = unsafe extern "C" fn(host: *mut PackHostVtable) -> i32;

const RTLD_NOW: c_int = 2;
const RTLD_LOCAL: c_int = 0;

#[link(name = "dl")]
extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlclose(handle: *mut c_void) -> c_int;
    fn dlerror() -> *mut c_char;
}

/// Read at compile time, as a runtime's `REFLOW_PACK_ABI_VERSION` is.
const fn parse_abi(text: &str) -> u32 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "PACKCHECK_HOST_ABI is empty");
    let mut value: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "PACKCHECK_HOST_ABI must be a decimal u32");
        value = value * 10 + (bytes[i] - b'0') as u64;
        assert!(value <= u32::MAX as u64, "PACKCHECK_HOST_ABI must be a decimal u32");
        i += 1;
    }
    value as u32
}
const HOST_ABI: u32 = parse_abi(env!("PACKCHECK_HOST_ABI"));

// ---------------------------------------------------------------------------
// The loader
// ---------------------------------------------------------------------------

/// One accepted registration. It exists only once the host has said 0, and
/// its destructor is the one place `drop(user_data)` is called: Rust's
/// ownership makes that exactly once, and never for a rejected registration
/// (upstream built its record before the duplicate check, so the rejected
/// one was dropped too: a double free in every SDK-built pack).
struct Registration {
    pack: usize,
    name: String,
    factory: FactoryFn,
    drop: Option<DropFn>,
    user_data: *mut c_void,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(drop_fn) = self.drop {
            unsafe { drop_fn(self.user_data) };
        }
    }
}

/// Templates of every loaded pack, keyed by name across packs (a name is one
/// template in a runtime, whichever pack brought it).
#[derive(Default)]
struct Registry {
    templates: Vec<Registration>,
}

impl Registry {
    /// What a host answers `register_template`: validation first, a record last.
    fn answer(&mut self, pack: usize, id: *const c_char, factory: Option<FactoryFn>, drop: Option<DropFn>, user_data: *mut c_void) -> i32 {
        let factory = match factory {
            Some(f) if !id.is_null() => f,
            _ => return NULL_ARG,
        };
        let name = match unsafe { CStr::from_ptr(id) }.to_str() {
            Ok(s) => s.to_owned(),
            Err(_) => return BAD_UTF8,
        };
        if self.templates.iter().any(|t| t.name == name) {
            return DUPLICATE;
        }
        self.templates.push(Registration { pack, name, factory, drop, user_data });
        OK
    }

    /// Takes a pack's registrations out; dropping what is returned drops each once.
    fn take_pack(&mut self, pack: usize) -> Vec<Registration> {
        let (taken, kept) = std::mem::take(&mut self.templates).into_iter().partition(|t| t.pack == pack);
        self.templates = kept;
        taken
    }

    fn names_of(&self, pack: usize) -> Vec<String> {
        self.templates.iter().filter(|t| t.pack == pack).map(|t| t.name.clone()).collect()
    }
}

/// What `host_data` points at for the length of one `reflow_pack_register` call.
struct LoadContext<'a> {
    registry: &'a mut Registry,
    pack: usize,
}

unsafe extern "C" fn host_register_template(
    host_data: *mut c_void,
    template_id: *const c_char,
    factory: Option<FactoryFn>,
    drop: Option<DropFn>,
    user_data: *mut c_void,
) -> i32 {
    if host_data.is_null() {
        return NULL_ARG;
    }
    let ctx = &mut *(host_data as *mut LoadContext);
    // A panic must not unwind into the pack's C frames; the pack keeps its
    // user_data on any non-zero answer, so Internal is safe to give.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ctx.registry.answer(ctx.pack, template_id, factory, drop, user_data))).unwrap_or(INTERNAL)
}

/// A pack is its dlopen handle: two files with one name are two handles
/// (glibc tells them apart by device and inode), so two packs.
struct Pack {
    lib: *mut c_void,
}

#[derive(Default)]
struct Loader {
    registry: Registry,
    packs: Vec<Pack>,
}

fn last_dl_error() -> String {
    let e = unsafe { dlerror() };
    if e.is_null() {
        "unknown dlopen error".to_owned()
    } else {
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

unsafe fn symbol(lib: *mut c_void, name: &str) -> *mut c_void {
    let c = CString::new(name).expect("symbol names have no NUL");
    dlsym(lib, c.as_ptr())
}

impl Loader {
    /// Loads one pack: version first, then register; a failed register keeps nothing.
    fn load(&mut self, path: &[u8]) -> Result<usize, String> {
        let c_path = CString::new(path).map_err(|_| "the path has a NUL byte".to_owned())?;
        let lib = unsafe { dlopen(c_path.as_ptr(), RTLD_NOW | RTLD_LOCAL) };
        if lib.is_null() {
            return Err(last_dl_error());
        }
        match unsafe { self.register(lib) } {
            Ok(pack) => {
                self.packs.push(Pack { lib });
                Ok(pack)
            }
            Err(why) => {
                unsafe { dlclose(lib) };
                Err(why)
            }
        }
    }

    unsafe fn register(&mut self, lib: *mut c_void) -> Result<usize, String> {
        let version = symbol(lib, "reflow_pack_abi_version");
        if version.is_null() {
            return Err("no reflow_pack_abi_version".to_owned());
        }
        let version: VersionFn = std::mem::transmute(version);
        let theirs = version();
        if theirs != HOST_ABI {
            return Err(format!("ABI version mismatch: the pack has {}, this host {}: rebuild the pack", theirs, HOST_ABI));
        }
        let register = symbol(lib, "reflow_pack_register");
        if register.is_null() {
            return Err("no reflow_pack_register".to_owned());
        }
        let register: RegisterFn = std::mem::transmute(register);
        let pack = self.packs.len();
        let mut ctx = LoadContext { registry: &mut self.registry, pack };
        let mut vtable = PackHostVtable { host_data: &mut ctx as *mut LoadContext as *mut c_void, register_template: Some(host_register_template) };
        let status = register(&mut vtable);
        if status != OK {
            // Roll back: each accepted registration is dropped once, none kept,
            // so a retry (or another pack with these names) loads cleanly.
            drop(self.registry.take_pack(pack));
            return Err(format!("reflow_pack_register returned {}", status));
        }
        Ok(pack)
    }

    /// One actor from a template: the pack's handle taken as the Box it is
    /// (the caller drops it; no actor method is ever called).
    fn instantiate(&self, pack: usize, name: &str) -> Result<Box<PackActorHandle>, String> {
        let t = self.registry.templates.iter().find(|t| t.pack == pack && t.name == name).ok_or("no such template")?;
        let raw = unsafe { (t.factory)(t.user_data) };
        if raw.is_null() {
            return Err("the factory returned NULL".to_owned());
        }
        #[cfg(mutant = "drop-twice")]
        drop(unsafe { Box::from_raw(raw) });
        Ok(unsafe { Box::from_raw(raw) })
    }

    /// Drops each of the pack's registrations once, then closes its image.
    fn unload(&mut self, pack: usize) -> Result<(), String> {
        drop(self.registry.take_pack(pack));
        if unsafe { dlclose(self.packs[pack].lib) } != 0 {
            return Err(last_dl_error());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The adapter contract: events as JSON lines appended to $PACKCHECK_EVENTS
// ---------------------------------------------------------------------------

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Events {
    file: File,
}

impl Events {
    /// One write per line on an O_APPEND file: lines never interleave.
    fn say(&mut self, ev: &str, path: &str, name: Option<&str>, ok: Option<bool>, error: Option<&str>) {
        let mut line = format!("{{\"ev\":\"{}\",\"path\":{}", ev, json_string(path));
        if let Some(n) = name {
            line += &format!(",\"name\":{}", json_string(n));
        }
        if let Some(o) = ok {
            line += &format!(",\"ok\":{}", o);
        }
        if let Some(e) = error {
            line += &format!(",\"error\":{}", json_string(e));
        }
        line += "}\n";
        if self.file.write_all(line.as_bytes()).is_err() {
            std::process::exit(3);
        }
    }
}

fn main() {
    let file = match std::env::var_os("PACKCHECK_EVENTS") {
        Some(f) => f,
        None => {
            eprintln!("rust adapter: PACKCHECK_EVENTS is not set (packcheck host --native sets it)");
            std::process::exit(2);
        }
    };
    let mut events = match OpenOptions::new().append(true).create(true).open(&file) {
        Ok(f) => Events { file: f },
        Err(e) => {
            eprintln!("rust adapter: cannot open {:?}: {}", file, e);
            std::process::exit(2);
        }
    };
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    println!("rust adapter: loading {} pack(s)", args.len());

    let mut loader = Loader::default();
    let mut loaded: Vec<(String, usize)> = Vec::new();
    for arg in &args {
        // packcheck gives ASCII paths; a path that is not UTF-8 is reported lossily.
        let path = arg.to_string_lossy().into_owned();
        match loader.load(arg.as_bytes()) {
            Ok(pack) => {
                events.say("load", &path, None, Some(true), None);
                for name in loader.registry.names_of(pack) {
                    events.say("template", &path, Some(&name), None, None);
                }
                loaded.push((path, pack));
            }
            Err(why) => events.say("load", &path, None, Some(false), Some(&why)),
        }
    }

    let mut released = 0;
    #[cfg(mutant = "drop-after-unload")]
    let mut kept = Vec::new();
    for (path, pack) in &loaded {
        for name in loader.registry.names_of(*pack) {
            match loader.instantiate(*pack, &name) {
                Ok(handle) => {
                    // Released at once, while the pack that made it is loaded:
                    // Arc's drop decrements a count inside the pack's image.
                    #[cfg(not(mutant = "drop-after-unload"))]
                    {
                        drop(handle);
                        released += 1;
                    }
                    // The mutant keeps it past dlclose, where that count is gone.
                    #[cfg(mutant = "drop-after-unload")]
                    kept.push(handle);
                    events.say("create", path, Some(&name), Some(true), None);
                }
                Err(why) => events.say("create", path, Some(&name), Some(false), Some(&why)),
            }
        }
    }

    for (path, pack) in loaded.iter().rev() {
        match loader.unload(*pack) {
            Ok(()) => events.say("unload", path, None, Some(true), None),
            Err(why) => eprintln!("rust adapter: unloading {}: {}", path, why),
        }
    }
    #[cfg(mutant = "drop-after-unload")]
    {
        released += kept.len();
        drop(kept);
    }
    // Kept in the report's stdout for a reader; packcheck never parses it.
    println!("rust adapter: dropped {} actor handle(s)", released);
}
