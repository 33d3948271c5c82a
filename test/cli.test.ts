// The CLI's contract with CI: exit codes, one-line errors, the JSON report.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');

async function packcheck(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'packcheck-cli-'));

describe('packcheck exit codes and usage errors', () => {
  it('a missing file exits 2 with one line on stderr', async () => {
    const r = await packcheck(join(tmp, 'nope.wasm'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such file/);
    expect(r.stdout).not.toMatch(/pass|FAIL/);
  });

  it('a file that is not a pack exits 2 and says what to give instead', async () => {
    const f = join(tmp, 'readme.wasm');
    writeFileSync(f, 'hello, I am text');
    const r = await packcheck(f);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/is not a pack/);
  });

  it('wasm magic with a broken body exits 2 (cannot load)', async () => {
    const f = join(tmp, 'broken.wasm');
    writeFileSync(f, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff]));
    const r = await packcheck(f);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not compile/);
  });

  it.each([
    [['--runs', 'many']],
    [['--bogus']],
    [['--only', 'wasm.nope']],
    [['--profile', 'weird']],
    [['--expect-abi', '1', '--rustc-vv', 'x']],
    [['--path', '3:1']],
  ])('bad arguments %j exit 2 with one line', async (args) => {
    const r = await packcheck(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^packcheck: /);
  });

  it('--help lists the options and run counts', async () => {
    const r = await packcheck('--help');
    expect(r.code).toBe(0);
    for (const opt of ['--runs', '--seed', '--path', '--only', '--skip', '--json', '--expect-abi', '--rustc-vv', '--timeout-ms', '--profile']) expect(r.stdout).toContain(opt);
    expect(r.stdout).toMatch(/20000 cycles/);
  });

  it('a conforming pack exits 0 and writes a report@1 JSON report', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const json = join(tmp, 'r.json');
    const r = await packcheck(pack, '--seed', '7', '--runs', '5', '--only', 'wasm.register,wasm.alloc.zero,abi.version', '--json', json);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.schema).toBe('packcheck/report@1');
    expect(rep.pack.abi).toBe('wasm');
    expect(rep.pack.templates.length).toBeGreaterThan(0);
    expect(rep.options).toEqual({ seed: 7, runs: 5, timeoutMs: 2000, profile: 'sdk' });
    expect(rep.results.map((x: { id: string }) => x.id)).toEqual([
      'abi.version.stable',
      'abi.version.expected',
      'wasm.register.status',
      'wasm.register.metadata',
      'wasm.register.unique-names',
      'wasm.register.dense-ids',
      'wasm.alloc.zero',
    ]);
    expect(rep.summary).toMatchObject({ passed: 6, skipped: 1, failed: 0, errored: 0 });
    expect(rep.exitCode).toBe(0);
  });
});

describe('packcheck never outlives its caller', () => {
  // A pack whose start function never returns, with a limit far beyond the test: packcheck sits in its survey.
  const hanging = async () => (await import('../packs-under-test/build.ts')).buildMutant((await import('../packs-under-test/manifest.ts')).MUTANTS.find((m) => m.name === 'wat-start-hangs')!, null);
  // Running, not a zombie: an orphan that exited waits for a reaper this sandbox may not have.
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const gone = async (pid: number) => {
    while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
  };

  it('on SIGTERM it stops its workers, writes what it has and exits 1', async () => {
    const json = join(tmp, 'interrupted.json');
    // No --seed: the seed line on stdout says the run has started.
    const child = (await import('node:child_process')).spawn(process.execPath, [BIN, (await hanging())!, '--timeout-ms', '600000', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/stopped: packcheck received SIGTERM/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.interrupted).toMatch(/SIGTERM/);
    expect(rep.exitCode).toBe(1);
  }, 30000);

  it('when the process that started it dies, it ends too', async () => {
    const cp = await import('node:child_process');
    // A shell starts packcheck in the background and prints its pid; then the shell is killed outright.
    const log = join(tmp, 'orphan.out');
    writeFileSync(log, '');
    const sh = cp.spawn('sh', ['-c', `"${process.execPath}" "${BIN}" "${(await hanging())!}" --timeout-ms 600000 >"${log}" 2>&1 & echo $!; wait`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((r) => sh.stdout.once('data', (d: Buffer) => r(d.toString().trim()))));
    // Its seed line: the run has started.
    while (!readFileSync(log, 'utf8').includes('seed')) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(true);
    sh.kill('SIGKILL');
    await gone(pid);
    expect(alive(pid)).toBe(false);
    expect(readFileSync(log, 'utf8')).toMatch(/stopped: the process that started packcheck \(pid \d+\) is gone/);
  }, 30000);
});
