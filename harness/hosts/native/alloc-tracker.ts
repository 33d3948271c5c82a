// The allocation tracker for native packs: builds and drives the LD_PRELOAD
// interposer in ./alloc-tracker.c.
//
// What it needs: Linux with glibc (the interposer replaces malloc, free,
// calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc and pvalloc
// and finds glibc's versions with dlsym(RTLD_NEXT)), and a C compiler ($CC,
// cc, gcc or clang) to build it once. The build is cached (harness/run/cache-dir.ts,
// native/) by a hash of the source and compiler flags.
//
// How it is used: the parent builds the library (trackerLibraryPath) and starts
// the process that loads the pack with trackerEnv() in its environment, which
// preloads the library. Inside that process, AllocTracker.attach() finds the
// preloaded copy, checks that it really sees the process's malloc, and gives
// access to its tables. Allocations are identified by sequence number, never
// by address (ABI.md, "The vtable ABI (native)", point 6).
//
// Without it (not Linux, no glibc, no compiler, a failed build, or a process
// not started with the preload) every function here returns { missing: why }
// instead of throwing. The three tracker-based properties
// (vtable.register.reclaim, vtable.register.keep-accepted, vtable.drop.frees)
// then report `skipped` with that reason; they never pass silently.
//
// Calls the pack makes through its PLT reach the interposer. Calls a host makes
// through koffi.load('libc.so.6') do NOT (dlsym on the libc handle finds libc's
// own malloc); look heap functions up in the global scope (koffi.load(null))
// when they must be tracked.

import { spawnSync } from 'node:child_process';
import { cacheDir } from '../../run/cache-dir.ts';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

/** Why the tracker cannot be used here. */
export type Missing = { missing: string };

/** Whether a tracker answer is a `{ missing }` explanation. */
export function isMissing(x: unknown): x is Missing {
  return typeof x === 'object' && x !== null && typeof (x as { missing?: unknown }).missing === 'string';
}

const SOURCE = fileURLToPath(new URL('./alloc-tracker.c', import.meta.url));
const CACHE_DIR = cacheDir('native');
const CFLAGS = ['-shared', '-fPIC', '-O2', '-fno-builtin', '-Wall'];
const LIBS = ['-ldl', '-lpthread'];
/** File names the cache gives builds of the tracker. */
const LIBRARY_NAME = /^alloc-tracker-[0-9a-f]{16}\.so$/;

let built: { path: string } | Missing | undefined;
/** Times this process ran the compiler (tests assert a cached build is not rebuilt). */
let compilerRuns = 0;

/** How many times this process has run the C compiler to build the tracker. */
export function trackerBuilds(): number {
  return compilerRuns;
}

function firstLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /\berror\b/i.test(l)) ?? lines[0] ?? '(no output)';
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

function findCompiler(): { cmd: string; args: string[] } | undefined {
  const candidates: string[][] = [];
  const cc = process.env.CC?.trim();
  if (cc) candidates.push(cc.split(/\s+/));
  candidates.push(['cc'], ['gcc'], ['clang']);
  for (const [cmd, ...args] of candidates) {
    if (cmd === undefined) continue;
    const probe = spawnSync(cmd, [...args, '--version'], { encoding: 'utf8' });
    if (!probe.error && probe.status === 0) return { cmd, args };
  }
  return undefined;
}

function build(): { path: string } | Missing {
  if (process.platform !== 'linux') {
    return { missing: `the allocation tracker needs Linux (an LD_PRELOAD interposer); this is ${process.platform}` };
  }
  if (glibcVersion() === undefined) {
    return { missing: 'the allocation tracker needs glibc (this Linux uses another C library)' };
  }
  let source: Buffer;
  try {
    source = readFileSync(SOURCE);
  } catch (e) {
    return { missing: `the allocation tracker's source is unreadable: ${(e as Error).message}` };
  }
  const hash = createHash('sha256')
    .update(source)
    .update('\0' + [...CFLAGS, ...LIBS].join(' '))
    .digest('hex')
    .slice(0, 16);
  const path = join(CACHE_DIR, `alloc-tracker-${hash}.so`);
  if (existsSync(path)) return { path };

  const compiler = findCompiler();
  if (compiler === undefined) {
    return { missing: 'no C compiler to build the allocation tracker (tried $CC, cc, gcc, clang): install gcc' };
  }
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
  } catch (e) {
    return { missing: `cannot create ${CACHE_DIR}: ${(e as Error).message}` };
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  compilerRuns++;
  const run = spawnSync(compiler.cmd, [...compiler.args, ...CFLAGS, '-o', tmp, SOURCE, ...LIBS], {
    encoding: 'utf8',
  });
  if (run.error || run.status !== 0) {
    rmSync(tmp, { force: true });
    const why = run.error ? run.error.message : firstLine(`${run.stderr}\n${run.stdout}`);
    return { missing: `building the allocation tracker with ${compiler.cmd} failed: ${why}` };
  }
  // Concurrent builds (two test workers on a cold cache) are safe: link() never
  // replaces a file, so the first build to land is the one everybody keeps;
  // a later one finds it there (EEXIST) and throws its own copy away.
  try {
    linkSync(tmp, path);
  } catch (e) {
    if (!existsSync(path)) {
      rmSync(tmp, { force: true });
      return { missing: `cannot store the allocation tracker: ${(e as Error).message}` };
    }
  }
  rmSync(tmp, { force: true });
  return { path };
}

/** Builds the interposer (once per source version; cached on disk and in this process) and returns its path. */
export function trackerLibraryPath(): { path: string } | Missing {
  built ??= build();
  return built;
}

/** LD_PRELOAD entries of this process's environment (separated by colons or white space). */
function preloadEntries(value: string | undefined): string[] {
  return (value ?? '').split(/[:\s]+/).filter((e) => e !== '');
}

/** Environment entries that start a child process with the tracker preloaded (merge into its env). */
export function trackerEnv(): Record<string, string> | Missing {
  const lib = trackerLibraryPath();
  if (isMissing(lib)) return lib;
  if (/[:\s]/.test(lib.path)) {
    return { missing: `the allocation tracker's path cannot be put in LD_PRELOAD (it has a colon or a space): ${lib.path}` };
  }
  const others = preloadEntries(process.env.LD_PRELOAD).filter((e) => !LIBRARY_NAME.test(basename(e)));
  return { LD_PRELOAD: [lib.path, ...others].join(':') };
}

/** A stray free: a free of something that was not a live tracked block. */
export type StrayFree = {
  /** The address freed. */
  ptr: bigint;
  /** The allocation that address last belonged to (a double free), or 0n if it never was a tracked block. */
  seq: bigint;
};

type Fn = (...args: unknown[]) => unknown;

const NOT_PRELOADED = 'the allocation tracker is not preloaded in this process';

let attached: AllocTracker | undefined;

/**
 * The tracker inside a process started with trackerEnv(). Only allocations the
 * enabling thread makes while tracking is on are tracked; frees of tracked
 * blocks are seen from every thread. While tracking is on, a second free of a
 * tracked allocation is recorded (strayFrees, freeCount 2) and not passed to
 * glibc, so the process survives it; while it is off, glibc sees it and may
 * abort.
 */
export class AllocTracker {
  readonly path: string;
  readonly #fn: Record<string, Fn>;

  private constructor(path: string, fn: Record<string, Fn>) {
    this.path = path;
    this.#fn = fn;
  }

  /**
   * Connects to the preloaded interposer, or says why it cannot. The first
   * successful call runs a self-test (enables tracking, mallocs and frees one
   * block, disables tracking); later calls return the same tracker.
   */
  static attach(): AllocTracker | Missing {
    if (attached) return attached;
    if (process.platform !== 'linux') return { missing: `${NOT_PRELOADED} (the tracker needs Linux)` };
    const path = preloadEntries(process.env.LD_PRELOAD).find((e) => LIBRARY_NAME.test(basename(e)));
    if (path === undefined) return { missing: NOT_PRELOADED };
    // The process's global scope holds LD_PRELOAD objects; a copy loaded later
    // with dlopen would not be there (nor would it interpose anything).
    let heap: { malloc: Fn; free: Fn };
    try {
      const global = koffi.load(null);
      const present = global.func('int pct_present(void)') as Fn;
      if (present() !== 1) return { missing: `${NOT_PRELOADED} (pct_present did not answer 1)` };
      heap = {
        malloc: global.func('void *malloc(size_t size)') as Fn,
        free: global.func('void free(void *ptr)') as Fn,
      };
    } catch {
      return { missing: NOT_PRELOADED };
    }
    let fn: Record<string, Fn>;
    try {
      const lib = koffi.load(path);
      fn = {
        enable: lib.func('void pct_enable(int on)') as Fn,
        seqOf: lib.func('uint64_t pct_seq_of(void *p)') as Fn,
        sizeOf: lib.func('uint64_t pct_size_of(void *p)') as Fn,
        freedSeqAt: lib.func('uint64_t pct_freed_seq_at(void *p)') as Fn,
        isLive: lib.func('int pct_is_live_seq(uint64_t seq)') as Fn,
        freeCount: lib.func('int pct_free_count(uint64_t seq)') as Fn,
        strays: lib.func('int pct_stray_frees(void)') as Fn,
        strayPtr: lib.func('void *pct_stray_free_ptr(int i)') as Fn,
        straySeq: lib.func('uint64_t pct_stray_free_seq(int i)') as Fn,
        strayDropped: lib.func('uint64_t pct_stray_frees_dropped(void)') as Fn,
        liveCount: lib.func('uint64_t pct_live_count(void)') as Fn,
        lastSeq: lib.func('uint64_t pct_last_seq(void)') as Fn,
        untracked: lib.func('uint64_t pct_untracked_count(void)') as Fn,
      };
    } catch (e) {
      return { missing: `the preloaded allocation tracker ${path} lacks its control API: ${(e as Error).message}` };
    }
    const tracker = new AllocTracker(path, fn);
    // Self-test: a block this thread allocates while tracking is on must be seen.
    tracker.enable();
    const p = big(heap.malloc(24));
    const seq = p === 0n ? 0n : tracker.seqOf(p);
    if (p !== 0n) heap.free(p);
    const freed = seq !== 0n && tracker.freeCount(seq) === 1;
    tracker.disable();
    if (seq === 0n || !freed) {
      return { missing: `the allocation tracker ${path} is loaded but does not see this process's malloc and free` };
    }
    attached = tracker;
    return tracker;
  }

  /** Starts tracking allocations of the calling thread; clears the stray-free events. */
  enable(): void {
    this.#fn.enable!(1);
  }

  /** Stops tracking new allocations (the tables stay, and frees of tracked blocks are still seen). */
  disable(): void {
    this.#fn.enable!(0);
  }

  /** The sequence number of the live tracked block at exactly `ptr`, or 0n if there is none. */
  seqOf(ptr: bigint | number): bigint {
    return big(this.#fn.seqOf!(BigInt(ptr)));
  }

  /** The size requested for the live tracked block at exactly `ptr`, or 0n. */
  sizeOf(ptr: bigint | number): bigint {
    return big(this.#fn.sizeOf!(BigInt(ptr)));
  }

  /**
   * If `ptr` was a tracked block that has been freed and not handed out again
   * since: the allocation it last belonged to (freeing it now is a double
   * free); else 0n.
   */
  freedSeqAt(ptr: bigint | number): bigint {
    return big(this.#fn.freedSeqAt!(BigInt(ptr)));
  }

  /** Whether allocation `seq` is still allocated. */
  isLive(seq: bigint): boolean {
    return this.#fn.isLive!(seq) === 1;
  }

  /**
   * How many times allocation `seq` was freed: 0 while live, 1 once freed, 2 or
   * more for double frees; -1 if unknown (never tracked, or older than the
   * history of the last 65536 freed allocations).
   */
  freeCount(seq: bigint): number {
    return Number(this.#fn.freeCount!(seq));
  }

  /** Stray frees since enable(): seq 0n for never-tracked blocks (usually benign), else a double free. */
  strayFrees(): StrayFree[] {
    const n = Number(this.#fn.strays!());
    const out: StrayFree[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ ptr: big(this.#fn.strayPtr!(i)), seq: big(this.#fn.straySeq!(i)) });
    }
    return out;
  }

  /** Stray-free events not kept because the buffer was full (16384 events, at most 8192 with seq 0). */
  strayFreesDropped(): bigint {
    return big(this.#fn.strayDropped!());
  }

  /** Number of tracked blocks still allocated. */
  liveCount(): bigint {
    return big(this.#fn.liveCount!());
  }

  /** The last sequence number handed out: allocations after a call have a greater one. */
  lastSeq(): bigint {
    return big(this.#fn.lastSeq!());
  }

  /** Allocations left untracked because the tracker's table could not grow. */
  untrackedCount(): bigint {
    return big(this.#fn.untracked!());
  }
}

function big(v: unknown): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  throw new TypeError(`unexpected value from the allocation tracker: ${String(v)}`);
}
