// `.rflpack` bundles: a good bundle passes and runs each target's battery;
// each hostile or inconsistent bundle fails its bundle.* id; nothing is ever
// written outside the checker's own temporary directory.
import { execFile as execFileCb } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBundle, type BundleRunnerOptions } from '../harness/run/bundle/check.ts';
import { expectedKind, parseManifest, pathProblem } from '../harness/run/bundle/manifest.ts';
import { MAX_ENTRIES, openBundle } from '../harness/run/bundle/reader.ts';
import { LoadError, readPack } from '../harness/run/pack-file.ts';
import type { PackReport, PropertyResult } from '../harness/report/model.ts';
import { BUNDLE_PROPERTY_IDS, VTABLE_PROPERTY_IDS, WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildMutant, buildNativeRust, buildRust, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS, NATIVE_MUTANTS } from '../packs-under-test/manifest.ts';
import { WAT_REFERENCE_ABI } from '../packs-under-test/reference.ts';
import { failures, rustc, rustcMissing, TEST_SEED } from './support/check.ts';

const WASM = 'wasm32-unknown-unknown';
const LINUX = 'x86_64-unknown-linux-gnu';
const MIB = 1024 * 1024;
const nativeHere = process.platform === 'linux' && process.arch === 'x64';

const dir = mkdtempSync(join(tmpdir(), 'packcheck-bundle-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const watBytes = async () => readFileSync(await buildWat(WAT_REFERENCE, 'wat-reference'));
const ELF_STUB = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]);
const MACHO_STUB = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(28)]);

interface Entry {
  name: string;
  data?: Buffer | (() => Readable);
  mode?: number;
  compress?: boolean;
}

/** Builds a zip with yazl; `rename` swaps placeholder names for ones yazl refuses to write (same length, checked). */
async function zip(entries: Entry[], rename: Record<string, string> = {}): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries) {
    const opts = { mtime: new Date(0), ...(e.mode !== undefined ? { mode: e.mode } : {}), ...(e.compress !== undefined ? { compress: e.compress } : {}) };
    if (typeof e.data === 'function') z.addReadStream(e.data(), e.name, { ...opts, compressionLevel: 1 });
    else z.addBuffer(e.data ?? Buffer.alloc(0), e.name, opts);
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  let buf = Buffer.concat(chunks);
  for (const [from, to] of Object.entries(rename)) {
    const a = Buffer.from(from);
    const b = Buffer.from(to);
    expect(b.length, `${to} must be as long as its placeholder ${from}`).toBe(a.length);
    let n = 0;
    for (let at = buf.indexOf(a); at >= 0; at = buf.indexOf(a, at + 1)) {
      b.copy(buf, at);
      n++;
    }
    expect(n, `${from} occurs in its local header and its central directory record`).toBe(2);
  }
  return buf;
}

function manifest(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ manifest_version: 1, name: 'test-pack', version: '0.1.0', reflow_pack_abi_version: WAT_REFERENCE_ABI, targets: { [WASM]: { file: `lib/${WASM}/pack.wasm` } }, ...over }, null, 2));
}

let n = 0;
function save(buf: Buffer): string {
  const p = join(dir, `b${n++}.rflpack`);
  writeFileSync(p, buf);
  return p;
}

async function check(buf: Buffer, opts: Partial<BundleRunnerOptions> = {}): Promise<PackReport> {
  return checkBundle(await readPack(save(buf)), { seed: TEST_SEED, runs: 20, timeoutMs: 5000, profile: 'sdk', expectAbi: null, jobs: 2, ...opts });
}

const byId = (rep: PackReport, id: string, target?: string | null) => {
  const r = rep.results.filter((x) => x.id === id && (target === undefined || x.target === target));
  expect(r, `${id}${target !== undefined ? ` (${target})` : ''} in ${JSON.stringify(rep.results.map((x) => [x.id, x.target, x.status]))}`).toHaveLength(1);
  return r[0]!;
};
const statuses = (rep: PackReport) => Object.fromEntries(BUNDLE_PROPERTY_IDS.map((id) => [id, rep.results.filter((r) => r.id === id).map((r) => r.status).join(',')]));
const ourTempDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('packcheck-bundle-') && !f.startsWith('packcheck-bundle-test-'));

async function watBundle(over: Record<string, unknown> = {}, extra: Entry[] = []): Promise<Buffer> {
  return zip([{ name: 'manifest.json', data: manifest(over) }, { name: `lib/${WASM}/pack.wasm`, data: await watBytes() }, ...extra]);
}

function expectArchiveLevel(r: PropertyResult) {
  expect(r.target).toBeNull();
  if (r.replay) {
    expect(r.replay).not.toMatch(/--target/);
    expect(r.replay).toMatch(/\.rflpack --only bundle\./);
  }
}

describe('good bundles', () => {
  it('the WAT reference as a one-target bundle passes: archive results, then the target\'s bundle results and battery', async () => {
    const before = ourTempDirs();
    const rep = await check(await watBundle({ templates: ['wat.echo'], description: null, authors: ['a'], license: 'MIT' }));
    expect(failures(rep)).toBe('');
    expect(rep.exitCode).toBe(0);
    expect(rep.summary.failed + rep.summary.errored).toBe(0);
    expect(rep.pack.abi).toBe('bundle');
    expect(rep.pack.abiVersion).toBe(WAT_REFERENCE_ABI);
    expect(rep.pack.imports).toEqual([]);
    expect(rep.pack.templates).toEqual([{ name: 'wat.echo', factoryId: 0, inports: [], outports: [] }]);
    expect(rep.pack.targets).toEqual([{ triple: WASM, file: `lib/${WASM}/pack.wasm`, abi: 'wasm', abiVersion: WAT_REFERENCE_ABI }]);
    expect(rep.results.map((r) => [r.id, r.target])).toEqual([
      ['bundle.manifest.schema', null],
      ['bundle.paths.safe', null],
      ['bundle.targets.present', null],
      ['bundle.abi.match', WASM],
      ['bundle.templates.match', WASM],
      ...WASM_PROPERTY_IDS.map((id) => [id, WASM]),
    ]);
    // abi.version.expected has no expected ABI (no --expect-abi): skipped, and nothing else is.
    expect(rep.results.filter((r) => r.status === 'skipped').map((r) => r.id)).toEqual(['abi.version.expected']);
    expect(ourTempDirs()).toEqual(before);
  });

  it.skipIf(!rustc || !nativeHere)(`the Rust references (wasm32 + x86_64 .so from one rustc) pass, each target tagged${rustcMissing ? ` (skipped: ${rustcMissing})` : ''}`, async () => {
    const rep = await check(await rustBundle(), { expectAbi: rustc!.abiVersion });
    expect(failures(rep)).toBe('');
    expect(rep.exitCode).toBe(0);
    expect(rep.pack.targets).toEqual([
      { triple: WASM, file: `lib/${WASM}/reference_pack.wasm`, abi: 'wasm', abiVersion: rustc!.abiVersion },
      { triple: LINUX, file: `lib/${LINUX}/libnative_pack.so`, abi: 'vtable', abiVersion: rustc!.abiVersion },
    ]);
    const ids = (t: string) => rep.results.filter((r) => r.target === t).map((r) => r.id);
    expect(ids(WASM)).toEqual(['bundle.abi.match', ...WASM_PROPERTY_IDS]);
    expect(ids(LINUX)).toEqual(['bundle.abi.match', ...VTABLE_PROPERTY_IDS]);
    // One templates list cannot name both targets' templates here: the manifest lists none.
    const tm = byId(rep, 'bundle.templates.match', null);
    expect(tm.status).toBe('skipped');
    expect(tm.message).toMatch(/lists no templates/);
    expect(rep.results.every((r) => r.target === null || r.target === WASM || r.target === LINUX)).toBe(true);
  });
});

async function rustBundle(over: Record<string, unknown> = {}): Promise<Buffer> {
  const wasm = readFileSync(buildRust(rustc!, 'rust-reference'));
  const so = readFileSync(buildNativeRust(rustc!, 'native-reference'));
  const m = manifest({ reflow_pack_abi_version: rustc!.abiVersion, targets: { [WASM]: { file: `lib/${WASM}/reference_pack.wasm` }, [LINUX]: { file: `lib/${LINUX}/libnative_pack.so` } }, ...over });
  return zip([
    { name: 'manifest.json', data: m },
    { name: `lib/${WASM}/reference_pack.wasm`, data: wasm },
    { name: `lib/${LINUX}/libnative_pack.so`, data: so },
  ]);
}

describe('--target', () => {
  it('limits the run to one target; archive-level results are still reported', async () => {
    const targets = { [WASM]: { file: `lib/${WASM}/pack.wasm` }, 'aarch64-apple-darwin': { file: 'lib/aarch64-apple-darwin/libpack.dylib' } };
    const buf = await watBundle({ targets }, [{ name: 'lib/aarch64-apple-darwin/libpack.dylib', data: MACHO_STUB }]);
    const rep = await check(buf, { target: WASM, only: ['bundle', 'wasm.alloc.zero'] });
    expect(rep.results.map((r) => [r.id, r.target, r.status])).toEqual([
      ['bundle.manifest.schema', null, 'passed'],
      ['bundle.paths.safe', null, 'passed'],
      ['bundle.targets.present', null, 'passed'],
      ['bundle.templates.match', null, 'skipped'],
      ['bundle.abi.match', WASM, 'passed'],
      ['wasm.alloc.zero', WASM, 'passed'],
    ]);
    expect(rep.pack.targets!.map((t) => [t.triple, t.abi])).toEqual([
      [WASM, 'wasm'],
      ['aarch64-apple-darwin', 'vtable'],
    ]);

    // A target this machine cannot load: its bundle results are skipped with the reason.
    const mac = await check(buf, { target: 'aarch64-apple-darwin' });
    expect(mac.results.some((r) => r.target === WASM)).toBe(false);
    const skipped = byId(mac, 'bundle.abi.match', 'aarch64-apple-darwin');
    expect(skipped.status).toBe('skipped');
    expect(skipped.message).toMatch(/this machine \(\w+\/\w+\) loads wasm32-unknown-unknown.* not aarch64-apple-darwin/);
    expect(mac.exitCode).toBe(0);

    await expect(check(buf, { target: 'riscv64gc-unknown-linux-gnu' })).rejects.toThrow(LoadError);
  });

  it.skipIf(!rustc || !nativeHere)('picks the native target out of a two-target bundle; templates are compared per target', async () => {
    const rep = await check(await rustBundle({ templates: ['reference.echo', 'reference.counter'] }), { only: ['bundle'] });
    const wasm = byId(rep, 'bundle.templates.match', WASM);
    const linux = byId(rep, 'bundle.templates.match', LINUX);
    expect(wasm.status).toBe('passed');
    expect(linux.status).toBe('failed');
    expect(linux.message).toContain('missing (listed, not registered): ["reference.echo", "reference.counter"]');
    expect(linux.message).toContain('extra (registered, not listed): ["native.echo", "native.counter", "native.sink", "native.clock"]');
    expect(linux.replay).toMatch(/--only bundle\.templates\.match --seed \d+ --runs 20 --timeout-ms 5000 --target x86_64-unknown-linux-gnu$/);
    expect(byId(rep, 'bundle.abi.match', LINUX).status).toBe('passed');

    const one = await check(await rustBundle(), { target: LINUX, only: ['bundle', 'vtable.shape.symbols'] });
    expect(one.results.map((r) => [r.id, r.target, r.status])).toEqual([
      ['bundle.manifest.schema', null, 'passed'],
      ['bundle.paths.safe', null, 'passed'],
      ['bundle.targets.present', null, 'passed'],
      ['bundle.templates.match', null, 'skipped'],
      ['bundle.abi.match', LINUX, 'passed'],
      ['vtable.shape.symbols', LINUX, 'passed'],
    ]);
  });
});

describe.skipIf(!rustc || !nativeHere)('the native target\'s entrypoint', () => {
  it('comes from the manifest, and --entrypoint overrides it (and is kept in replays)', async () => {
    const so = readFileSync((await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-wrong-entrypoint')!, rustc))!);
    const buf = await zip([
      { name: 'manifest.json', data: manifest({ reflow_pack_abi_version: rustc!.abiVersion, entrypoint: 'reflow_pack_register_v2', targets: { [LINUX]: { file: 'lib/libpack.so' } } }) },
      { name: 'lib/libpack.so', data: so },
    ]);
    const ok = await check(buf, { only: ['bundle.abi.match', 'vtable.shape.symbols'] });
    expect(failures(ok)).toBe('');
    expect(byId(ok, 'vtable.shape.symbols', LINUX).status).toBe('passed');
    const wrong = await check(buf, { only: ['vtable.shape.symbols'], entrypoint: 'reflow_pack_nope' });
    const r = byId(wrong, 'vtable.shape.symbols', LINUX);
    expect(r.status).toBe('failed');
    expect(r.message).toContain('(lib/libpack.so)');
    expect(r.message).not.toMatch(/target-\d+\.so/);
    expect(r.replay).toMatch(/--target x86_64-unknown-linux-gnu --entrypoint reflow_pack_nope$/);
  });
});

describe('hostile bundles fail their id (exit 1)', () => {
  const escapes = [
    { what: 'a "../" entry and target file', file: '../evil.wasm', placeholder: '@@/evil.wasm', problem: 'has a ".." segment' },
    { what: 'a nested "a/../../" escape', file: 'lib/../../evil.wasm', placeholder: 'lib/@@/@@/evil.wasm', problem: 'has a ".." segment' },
    { what: 'an absolute path', file: '/tmp/evil.wasm', placeholder: '_tmp/evil.wasm', problem: 'is absolute' },
    { what: 'a drive-letter path', file: 'C:/evil.wasm', placeholder: 'C_/evil.wasm', problem: 'is absolute' },
    { what: 'a backslash', file: 'lib\\evil.wasm', placeholder: 'lib_evil.wasm', problem: 'contains a backslash' },
    { what: 'a NUL', file: 'lib/evil\0.wasm', placeholder: 'lib/evil_.wasm', problem: 'contains a NUL' },
  ];
  for (const e of escapes) {
    it(`bundle.paths.safe: ${e.what}`, async () => {
      const outside = [join(dir, '..', 'evil.wasm'), join(tmpdir(), 'evil.wasm'), join(process.cwd(), '..', 'evil.wasm'), '/tmp/evil.wasm', join(dir, 'lib', 'evil.wasm')];
      const pre = outside.map((p) => existsSync(p));
      const before = ourTempDirs();
      const buf = await zip([{ name: 'manifest.json', data: manifest({ targets: { [WASM]: { file: e.file } } }) }, { name: e.placeholder, data: await watBytes() }], { [e.placeholder]: e.file });
      const rep = await check(buf);
      const safe = byId(rep, 'bundle.paths.safe');
      expect(safe.status).toBe('failed');
      expectArchiveLevel(safe);
      expect(safe.message).toContain(`entry ${JSON.stringify(e.file)} ${e.problem}`);
      expect(safe.message).toContain(`targets["${WASM}"].file ${JSON.stringify(e.file)} ${e.problem}`);
      expect(byId(rep, 'bundle.targets.present').status).toBe('skipped');
      expect(byId(rep, 'bundle.abi.match').status).toBe('skipped');
      expect(rep.exitCode).toBe(1);
      // Nothing was written anywhere the names point, and the checker left no directory behind.
      expect(outside.map((p) => existsSync(p))).toEqual(pre);
      expect(ourTempDirs()).toEqual(before);
    });
  }

  it('bundle.paths.safe: an unsafe extra entry fails even when the targets are fine, and the good target still runs', async () => {
    const outside = join(dir, '..', 'evil.wasm');
    const buf = await zip([{ name: 'manifest.json', data: manifest() }, { name: `lib/${WASM}/pack.wasm`, data: await watBytes() }, { name: '@@/evil.wasm', data: await watBytes() }], { '@@/evil.wasm': '../evil.wasm' });
    const rep = await check(buf, { only: ['bundle'] });
    expect(statuses(rep)).toMatchObject({ 'bundle.paths.safe': 'failed', 'bundle.targets.present': 'passed', 'bundle.abi.match': 'passed' });
    expect(existsSync(outside)).toBe(false);
  });

  it('bundle.paths.safe: a symlink entry (and a target that names it)', async () => {
    const buf = await zip([
      { name: 'manifest.json', data: manifest() },
      { name: `lib/${WASM}/pack.wasm`, data: Buffer.from('../../../../etc/passwd'), mode: 0o120777 },
    ]);
    const rep = await check(buf);
    const safe = byId(rep, 'bundle.paths.safe');
    expect(safe.status).toBe('failed');
    expect(safe.message).toContain(`entry "lib/${WASM}/pack.wasm" is a symlink entry`);
    expect(safe.message).toContain('names a symlink entry');
    expect(byId(rep, 'bundle.targets.present').status).toBe('skipped');
    expect(rep.exitCode).toBe(1);
  });

  it('bundle.manifest.schema: a zip bomb (300 MiB of zeros in one entry) is refused by its declared sizes, before inflating', async () => {
    const zeros = () => Readable.from((function* () {
      const mib = Buffer.alloc(MIB);
      for (let i = 0; i < 300; i++) yield mib;
    })());
    const bomb = await zip([{ name: 'manifest.json', data: manifest() }, { name: `lib/${WASM}/pack.wasm`, data: zeros }]);
    expect(bomb.length).toBeLessThan(2 * MIB);
    // Refused on what the central directory declares (the message quotes it), so nothing was inflated: no clock needed.
    const rep = await check(bomb);
    const schema = byId(rep, 'bundle.manifest.schema');
    expect(schema.status).toBe('failed');
    expectArchiveLevel(schema);
    expect(schema.message).toMatch(/past the reader's limits: entry "lib\/wasm32-unknown-unknown\/pack\.wasm" declares 300 MiB uncompressed; the per-entry limit is 64 MiB/);
    expect(statuses(rep)).toMatchObject({ 'bundle.paths.safe': 'skipped', 'bundle.targets.present': 'skipped', 'bundle.abi.match': 'skipped', 'bundle.templates.match': 'skipped' });
    expect(rep.exitCode).toBe(1);

    // The same bomb with its central directory lying (it declares 4 KiB): refused while inflating.
    const cd = bomb.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    expect(bomb.readUInt32LE(cd + 24)).toBe(300 * MIB);
    const liar = Buffer.from(bomb);
    liar.writeUInt32LE(4096, cd + 24);
    const lied = await check(liar);
    const s2 = byId(lied, 'bundle.manifest.schema');
    expect(s2.status).toBe('failed');
    expect(s2.message).toMatch(/inflates to more than the 4096 bytes its header declares .*the header lies/);
    expect(lied.exitCode).toBe(1);
  });

  it('bundle.manifest.schema: the total and ratio limits, and the entry count limit', async () => {
    const pad = Buffer.alloc(600 * 1024, 1);
    const two = await zip([{ name: 'manifest.json', data: manifest() }, { name: 'pad/1.bin', data: pad, compress: false }, { name: 'pad/2.bin', data: pad, compress: false }]);
    const total = byId(await check(two, { limits: { maxTotalBytes: MIB } }), 'bundle.manifest.schema');
    expect(total.message).toMatch(/declare 1\.2 MiB uncompressed in total \(at "pad\/2\.bin"\); the total limit is 1 MiB/);

    const ratio = await zip([{ name: 'manifest.json', data: manifest() }, { name: 'pad/zeros.bin', data: Buffer.alloc(8 * MIB) }]);
    expect(byId(await check(ratio), 'bundle.manifest.schema').message).toMatch(/compression ratio limit is 100:1 for entries over 1 MiB/);

    const many = await zip([{ name: 'manifest.json', data: manifest() }, ...Array.from({ length: MAX_ENTRIES }, (_, i) => ({ name: `pad/${i}`, data: Buffer.alloc(0) }))]);
    const count = byId(await check(many), 'bundle.manifest.schema');
    expect(count.status).toBe('failed');
    expect(count.message).toMatch(/declares 1001 entries; the entry count limit is 1000/);
  });

  it('bundle.manifest.schema: a corrupt zip (PK signature, then garbage) fails; it is never a throw', async () => {
    const garbage = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) & 0xff))]);
    const rep = await check(garbage);
    const s = byId(rep, 'bundle.manifest.schema');
    expect(s.status).toBe('failed');
    expect(s.message).toMatch(/the archive is corrupt: not a readable zip archive/);
    expect(rep.exitCode).toBe(1);
    expect(rep.pack.abi).toBe('bundle');
    expect(rep.pack.abiVersion).toBeNull();

    // A good archive cut short, and one whose target's deflate stream is damaged.
    const good = await watBundle();
    expect(byId(await check(good.subarray(0, good.length - 30)), 'bundle.manifest.schema').status).toBe('failed');
    const damaged = Buffer.from(good);
    const wasmAt = damaged.indexOf(Buffer.from(`lib/${WASM}/pack.wasm`)) + 40;
    for (let i = 0; i < 64; i++) damaged[wasmAt + i] = 0xff;
    const d = byId(await check(damaged), 'bundle.manifest.schema');
    expect(d.status).toBe('failed');
    expect(d.message).toMatch(/corrupt/);
  });

  it('bundle.manifest.schema: missing manifest, bad JSON, wrong types', async () => {
    const none = await check(await zip([{ name: `lib/${WASM}/pack.wasm`, data: await watBytes() }]));
    expect(byId(none, 'bundle.manifest.schema').message).toMatch(/no manifest\.json at the archive's root/);
    expect(statuses(none)).toMatchObject({ 'bundle.paths.safe': 'passed', 'bundle.targets.present': 'skipped', 'bundle.abi.match': 'skipped', 'bundle.templates.match': 'skipped' });
    expect(byId(none, 'bundle.abi.match').message).toMatch(/does not parse or has the wrong types/);

    const bad = await check(await zip([{ name: 'manifest.json', data: Buffer.from('{"manifest_version": 1,') }]));
    expect(byId(bad, 'bundle.manifest.schema').message).toMatch(/is not JSON/);

    const types = await check(await watBundle({ manifest_version: 2, reflow_pack_abi_version: 1.5, name: 7, targets: {}, templates: 'reference.echo', description: 3 }));
    const msg = byId(types, 'bundle.manifest.schema').message!;
    for (const part of ['manifest_version is number 2, expected 1', 'name is number 7, expected a string', 'reflow_pack_abi_version is number 1.5, expected a u32', 'targets is an empty object', 'templates is string "reference.echo", expected an array of strings', 'description is number 3, expected a string or null'])
      expect(msg).toContain(part);
    expect(types.exitCode).toBe(1);
  });

  it('bundle.abi.match: the manifest names another ABI version than the target reports', async () => {
    const rep = await check(await watBundle({ reflow_pack_abi_version: WAT_REFERENCE_ABI + 1 }), { only: ['bundle'] });
    const r = byId(rep, 'bundle.abi.match', WASM);
    expect(r.status).toBe('failed');
    expect(r.message).toContain(`returned: ${WAT_REFERENCE_ABI}`);
    expect(r.message).toContain(`expected: ${WAT_REFERENCE_ABI + 1}, the manifest's reflow_pack_abi_version`);
    expect(r.replay).toMatch(/^packcheck \S+\.rflpack --only bundle\.abi\.match --seed \d+ --runs 20 --timeout-ms 5000 --target wasm32-unknown-unknown$/);
    expect(rep.pack.abiVersion).toBe(WAT_REFERENCE_ABI + 1);
    expect(rep.pack.targets![0]!.abiVersion).toBe(WAT_REFERENCE_ABI);
    expect(rep.exitCode).toBe(1);
  });

  it('bundle.templates.match: declared templates differ from the registered ones (missing and extra listed)', async () => {
    const rep = await check(await watBundle({ templates: ['wat.missing', 'wat.echo'] }), { only: ['bundle'] });
    const r = byId(rep, 'bundle.templates.match', WASM);
    expect(r.status).toBe('failed');
    expect(r.message).toContain('missing (listed, not registered): ["wat.missing"]');
    expect(r.message).toContain('extra (registered, not listed): none');
    expect(r.counterexample).toEqual({ triple: WASM, file: `lib/${WASM}/pack.wasm`, missing: ['wat.missing'], extra: [] });
    const other = byId(await check(await watBundle({ templates: ['wat.other'] }), { only: ['bundle.templates.match'] }), 'bundle.templates.match', WASM);
    expect(other.message).toContain('missing (listed, not registered): ["wat.other"]');
    expect(other.message).toContain('extra (registered, not listed): ["wat.echo"]');
    expect(byId(rep, 'bundle.abi.match', WASM).status).toBe('passed');
    expect(rep.exitCode).toBe(1);
  });

  it('bundle.targets.present: a target file missing from the archive', async () => {
    const rep = await check(await zip([{ name: 'manifest.json', data: manifest() }]));
    const r = byId(rep, 'bundle.targets.present');
    expect(r.status).toBe('failed');
    expectArchiveLevel(r);
    expect(r.message).toContain(`${WASM}: "lib/${WASM}/pack.wasm" is not in the archive`);
    expect(byId(rep, 'bundle.abi.match').status).toBe('skipped');
    expect(rep.pack.targets).toEqual([{ triple: WASM, file: `lib/${WASM}/pack.wasm`, abi: null, abiVersion: null }]);
    expect(rep.exitCode).toBe(1);
  });

  it('bundle.targets.present: an ELF under wasm32-unknown-unknown, a wasm module under a Linux triple', async () => {
    const targets = { [WASM]: { file: 'lib/a.bin' }, [LINUX]: { file: 'lib/b.bin' } };
    const rep = await check(await zip([{ name: 'manifest.json', data: manifest({ targets }) }, { name: 'lib/a.bin', data: ELF_STUB }, { name: 'lib/b.bin', data: await watBytes() }]));
    const r = byId(rep, 'bundle.targets.present');
    expect(r.status).toBe('failed');
    expect(r.message).toContain(`${WASM}: "lib/a.bin" is an ELF shared object, expected a WebAssembly module for ${WASM}`);
    expect(r.message).toContain(`${LINUX}: "lib/b.bin" is a WebAssembly module, expected an ELF shared object for ${LINUX}`);
    expect(rep.results.filter((x) => x.target)).toEqual([]);
    expect(rep.exitCode).toBe(1);
  });

  it('harness.load: a target with the right magic that does not compile fails, tagged with its triple', async () => {
    const broken = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff]);
    const rep = await check(await zip([{ name: 'manifest.json', data: manifest() }, { name: `lib/${WASM}/pack.wasm`, data: broken }]));
    expect(rep.results.map((r) => [r.id, r.target, r.status])).toEqual([
      ['bundle.manifest.schema', null, 'passed'],
      ['bundle.paths.safe', null, 'passed'],
      ['bundle.targets.present', null, 'passed'],
      ['bundle.templates.match', null, 'skipped'],
      ['bundle.abi.match', WASM, 'skipped'],
      ['harness.load', WASM, 'failed'],
    ]);
    expect(byId(rep, 'harness.load').message).toMatch(/^wasm32-unknown-unknown: \S+\.rflpack \(lib\/wasm32-unknown-unknown\/pack\.wasm\) starts like WebAssembly but does not compile/);
    expect(rep.exitCode).toBe(1);
  });

  it('a failing battery result of a target replays on the bundle with --target, and progress sees it tagged', async () => {
    const mutant = (await buildMutant(MUTANTS.find((m) => m.name === 'wat-no-destroy-export')!, null))!;
    const seen: [string, string | null | undefined, string | undefined][] = [];
    const rep = await check(await zip([{ name: 'manifest.json', data: manifest() }, { name: `lib/${WASM}/pack.wasm`, data: readFileSync(mutant) }]), {
      only: ['bundle.abi.match', 'wasm.shape.exports'],
      onResult: (r) => seen.push([r.id, r.target, r.replay]),
    });
    const r = byId(rep, 'wasm.shape.exports', WASM);
    expect(r.status).toBe('failed');
    expect(r.replay).toBe(`packcheck ${rep.pack.path} --only wasm.shape.exports --seed ${TEST_SEED} --runs 20 --timeout-ms 5000 --target ${WASM}`);
    expect(JSON.stringify(rep)).not.toMatch(/target-\d+\.wasm/);
    // Live progress sees every result once, already tagged; a target's own bundle results come after its battery (they need its survey).
    expect(seen).toHaveLength(rep.results.length);
    expect(new Set(seen.map((x) => JSON.stringify(x)))).toEqual(new Set(rep.results.map((x) => JSON.stringify([x.id, x.target, x.replay]))));
  });

  it('archive-level failures are reported even when --only selects none of them', async () => {
    const rep = await check(await zip([{ name: 'manifest.json', data: manifest() }]), { only: ['wasm.alloc.zero'] });
    expect(rep.results.map((r) => [r.id, r.status])).toEqual([['bundle.targets.present', 'failed']]);
    expect(rep.exitCode).toBe(1);
  });
});

describe('manifest and path rules', () => {
  it('parses the optional fields with their defaults', () => {
    const m = parseManifest(manifest());
    expect(m).toEqual({ ok: true, manifest: { manifestVersion: 1, name: 'test-pack', version: '0.1.0', abiVersion: WAT_REFERENCE_ABI, targets: [{ triple: WASM, file: `lib/${WASM}/pack.wasm` }], authors: [], description: null, license: null, entrypoint: 'reflow_pack_register', templates: [] } });
  });

  it('refuses u32s that are not integers or do not fit, duplicate members, non-UTF-8', () => {
    const text = (s: string) => parseManifest(Buffer.from(s));
    const base = `"manifest_version": 1, "name": "n", "version": "v", "targets": {"${WASM}": {"file": "x"}}`;
    for (const v of ['1.0', '1e3', '-1', '4294967296', '"5"']) expect(text(`{${base}, "reflow_pack_abi_version": ${v}}`).ok, v).toBe(false);
    expect(text(`{${base}, "reflow_pack_abi_version": 4294967295}`).ok).toBe(true);
    expect(text(`{${base}, "reflow_pack_abi_version": 1, "name": "m"}`)).toMatchObject({ ok: false, problems: [expect.stringMatching(/"name" occurs more than once/)] });
    expect(parseManifest(Buffer.from([0x7b, 0xff, 0x7d]))).toMatchObject({ ok: false, problems: [expect.stringMatching(/not UTF-8/)] });
  });

  it('path problems and triple kinds', () => {
    expect(['lib/x.wasm', 'a..b/c', '...', 'lib/./x'].map(pathProblem)).toEqual([null, null, null, null]);
    expect(['../x', 'a/../b', '/x', 'C:x', 'a\\b', 'a\0b'].map((p) => pathProblem(p) !== null)).toEqual([true, true, true, true, true, true]);
    expect([WASM, LINUX, 'aarch64-unknown-linux-musl', 'aarch64-apple-darwin', 'x86_64-pc-windows-msvc', 'wasm32-wasip1'].map(expectedKind)).toEqual(['wasm', 'elf', 'elf', 'mach-o', 'pe', null]);
  });

  it('the reader reads entries it lists and never throws on garbage', async () => {
    const b = await openBundle(await watBundle());
    expect('failure' in b).toBe(false);
    if ('failure' in b) return;
    expect(b.entries.map((e) => [e.name, e.isDirectory, e.isSymlink])).toEqual([
      ['manifest.json', false, false],
      [`lib/${WASM}/pack.wasm`, false, false],
    ]);
    const m = await b.read(b.entries[0]!);
    expect(JSON.parse(Buffer.from(m as Uint8Array).toString('utf8')).name).toBe('test-pack');
    expect(b.entries[1]!.bytes).toBeUndefined();
    b.close();
    for (const junk of [Buffer.alloc(0), Buffer.from('PK\x03\x04'), Buffer.from('PK\x05\x06' + '\0'.repeat(18))]) await expect(openBundle(junk)).resolves.toBeDefined();
  });
});

describe('packcheck on a bundle (the CLI)', () => {
  const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
  const cli = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((done) => {
      execFileCb(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } }, (e, out, err) => done({ code: e ? (e as { code?: number }).code ?? 1 : 0, out, err }));
    });

  it('checks a good bundle by its zip magic (exit 0), and a hostile one fails (exit 1) with a report written', async () => {
    const good = save(await zip([{ name: 'manifest.json', data: manifest() }, { name: `lib/${WASM}/pack.wasm`, data: await watBytes() }]));
    const ok = await cli([good, '--seed', '3', '--runs', '5', '--only', 'bundle,wasm.register,abi.version', '--json', join(dir, 'good.json')]);
    expect(ok.code, ok.out + ok.err).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'good.json'), 'utf8'));
    expect(rep.pack.abi).toBe('bundle');
    expect(rep.results.some((r: { target: string | null }) => r.target === WASM)).toBe(true);
    const bomb = save(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 0x5a)]));
    const bad = await cli([bomb, '--quiet', '--json', join(dir, 'bad.json')]);
    expect(bad.code).toBe(1);
    const badRep = JSON.parse(readFileSync(join(dir, 'bad.json'), 'utf8'));
    expect(badRep.results.find((r: { id: string }) => r.id === 'bundle.manifest.schema').status).toBe('failed');
  });
});
