// The allocation tracker (harness/hosts/native/alloc-tracker.*): built once, preloaded
// into a child node process that drives malloc/free through koffi.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AllocTracker, isMissing, trackerBuilds, trackerEnv, trackerLibraryPath } from '../harness/hosts/native/alloc-tracker.ts';

const ROOT = join(import.meta.dirname, '..');
const CHILD = join(import.meta.dirname, 'fixtures', 'tracker-child.ts');

type Run = { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function withoutPreload(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return env;
}

function preloadedEnv(): NodeJS.ProcessEnv {
  const extra = trackerEnv();
  if (isMissing(extra)) throw new Error(`allocation tracker unavailable: ${extra.missing}`);
  return { ...withoutPreload(), ...extra };
}

/** Runs the fixture and parses the JSON line it prints (failing with its stderr if it crashed). */
async function child(mode: string, env: NodeJS.ProcessEnv): Promise<Record<string, any>> {
  const r = await runNode([CHILD, mode], env);
  expect(r.signal, `child crashed:\n${r.stderr}`).toBeNull();
  expect(r.status, `child failed:\n${r.stderr}`).toBe(0);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, any>;
}

describe.skipIf(process.platform !== 'linux')('allocation tracker', () => {
  it('builds the interposer and caches it by content hash', async () => {
    const first = trackerLibraryPath();
    if (isMissing(first)) throw new Error(`allocation tracker unavailable: ${first.missing}`);
    expect(first.path).toMatch(/[/]\.cache[/]native[/]alloc-tracker-[0-9a-f]{16}\.so$/);
    expect(existsSync(first.path)).toBe(true);
    const builds = trackerBuilds();

    // A second call in this process answers from memory: the compiler does not run again.
    const second = trackerLibraryPath();
    expect(second).toEqual(first);
    expect(trackerBuilds()).toBe(builds);

    // A fresh process finds the file on disk instead of building it again (it never runs the compiler).
    const r = await runNode(
      ['-e', "import('./harness/hosts/native/alloc-tracker.ts').then((m) => process.stdout.write(JSON.stringify({ lib: m.trackerLibraryPath(), builds: m.trackerBuilds() })))"],
      withoutPreload(),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ lib: first, builds: 0 });

    const env = trackerEnv();
    if (isMissing(env)) throw new Error(env.missing);
    expect(env.LD_PRELOAD?.split(':')[0]).toBe(first.path);
  });

  it('two processes building on a cold cache at once both get the one build, and leave no partial file', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'packcheck-tracker-cache-'));
    try {
      const env = { ...withoutPreload(), PACKCHECK_CACHE_DIR: cache };
      const script = "import('./harness/hosts/native/alloc-tracker.ts').then((m) => process.stdout.write(JSON.stringify({ lib: m.trackerLibraryPath(), builds: m.trackerBuilds() })))";
      const [a, b] = await Promise.all([runNode(['-e', script], env), runNode(['-e', script], env)]);
      expect(a.status, a.stderr).toBe(0);
      expect(b.status, b.stderr).toBe(0);
      const [x, y] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
      expect(x.lib.path).toMatch(new RegExp(`^${cache}/native/alloc-tracker-[0-9a-f]{16}\\.so$`));
      expect(y.lib).toEqual(x.lib);
      expect(readdirSync(join(cache, 'native'))).toEqual([basename(x.lib.path)]);
      // The build that landed is a working tracker.
      const attached = await child('attach', { ...withoutPreload(), LD_PRELOAD: x.lib.path });
      expect(attached).toEqual({ attached: true, path: x.lib.path });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('attach() says the tracker is missing in a process started without the preload', async () => {
    // This very process (a vitest worker) was not started with it...
    const here = AllocTracker.attach();
    expect(here).toEqual({ missing: 'the allocation tracker is not preloaded in this process' });

    // ...and naming it in LD_PRELOAD after the start does not fool attach().
    const lib = trackerLibraryPath();
    if (isMissing(lib)) throw new Error(lib.missing);
    const saved = process.env.LD_PRELOAD;
    process.env.LD_PRELOAD = lib.path;
    try {
      expect(isMissing(AllocTracker.attach())).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.LD_PRELOAD;
      else process.env.LD_PRELOAD = saved;
    }

    // A child without the preload.
    const out = await child('attach', withoutPreload());
    expect(out).toEqual({ missing: 'the allocation tracker is not preloaded in this process' });

    // And the same child with it attaches.
    const ok = await child('attach', preloadedEnv());
    expect(ok.attached).toBe(true);
  });

  it('tracks allocations by sequence number, reports double frees, survives them', async () => {
    const out = await child('scenarios', preloadedEnv());
    expect(out.survived).toBe(true);

    // malloc -> a tracked block with a non-zero seq; free -> not live, freed once.
    const b = out.basic;
    expect(BigInt(b.seq)).toBeGreaterThan(0n);
    expect(b.size).toBe('200');
    expect(b.liveBefore).toBe(true);
    expect(b.freesBefore).toBe(0);
    expect(b.liveAfter).toBe(false);
    expect(b.freesAfter).toBe(1);
    expect(b.seqOfAfter).toBe('0');

    // A second free of the same pointer: a stray free naming the original seq,
    // counted as the allocation's second free, and the process lives on.
    const d = out.doubleFree;
    expect(d, 'no attempt kept the freed address unclaimed until the second free').not.toBeNull();
    expect(BigInt(d.seq)).toBeGreaterThan(0n);
    expect(d.freedSeqBetween).toBe(d.seq);
    expect(d.frees).toBe(2);
    expect(d.live).toBe(false);
    expect(d.strays).toContainEqual({ ptr: d.ptr, seq: d.seq });
    expect(d.strays.filter((s: { seq: string }) => s.seq !== '0')).toEqual([{ ptr: d.ptr, seq: d.seq }]);

    // The same address handed out twice: two allocations, two seqs, each freed once.
    const r = out.reuse;
    expect(r, 'malloc never handed the freed address out again').not.toBeNull();
    expect(r.second).toBe(r.first);
    expect(BigInt(r.firstSeq)).toBeGreaterThan(0n);
    expect(BigInt(r.secondSeq)).toBeGreaterThan(BigInt(r.firstSeq));
    expect(r.firstFrees).toBe(1);
    expect(r.secondFrees).toBe(1);

    // Another thread's allocation is not tracked.
    expect(out.otherThread.ptr).not.toBe('0');
    expect(out.otherThread.seq).toBe('0');

    // realloc that moves: the old allocation is freed, the new block is a new one.
    expect(out.realloced.moved).toBe(true);
    expect(out.realloced.oldFrees).toBe(1);
    expect(BigInt(out.realloced.newSeq)).toBeGreaterThan(BigInt(out.realloced.oldSeq));

    expect(BigInt(out.others.callocSeq)).toBeGreaterThan(0n);
    expect(out.others.posixMemalignRc).toBe(0);
    expect(BigInt(out.others.posixMemalignSeq)).toBeGreaterThan(0n);
  });

  it('with tracking off a double free reaches glibc, which aborts (the control for the test above)', async () => {
    const r = await runNode([CHILD, 'untracked-double'], preloadedEnv());
    expect(r.stdout).not.toContain('survived');
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toMatch(/double free/);
  });
});
