// examples/pack-author, used the way a pack author uses packcheck: packcheck
// installed from the tarball `npm pack` makes (so bin, exports, types and
// "files" are what a consumer gets), the example's own vitest suite, and the
// CLI through npx. Everything happens in temp dirs; it needs the npm registry
// for vitest and vite.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'pack-author');
const TIMEOUT = 300_000;

// The child npm and vitest must not inherit the outer run's npm settings
// (npm_config_prefix, npm_config_omit, … from an `npm test`) or this vitest's
// own variables; network and registry settings are kept.
const KEEP_NPM = /^npm_config_(registry|cache|userconfig|proxy|https_proxy|http_proxy|noproxy|cafile|ca|strict_ssl|fetch_\w+|@[\w.-]+:registry)$/i;
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^npm_/i.test(k) && !KEEP_NPM.test(k)) continue;
  if (/^(VITEST|INIT_CWD$|NODE_ENV$|FORCE_COLOR$)/.test(k)) continue;
  env[k] = v;
}
env.NO_COLOR = '1';
env.npm_config_update_notifier = 'false';

interface Ran {
  command: string;
  cwd: string;
  code: number | string | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 1 << 26, timeout: TIMEOUT, shell: process.platform === 'win32' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string | null }) | null;
      resolve({ command: [cmd, ...args].join(' '), cwd, code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const tail = (text: string, lines = 60) => {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? [`… (${all.length - lines} lines above)`] : []).concat(all.slice(-lines)).join('\n');
};

/** What ran, where, how it ended and what it printed: the message of a failed expectation. */
function explain(r: Ran, what: string): string {
  return [
    `${what}: \`${r.command}\` in ${r.cwd} exited with ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}`,
    '--- stdout', tail(r.stdout) || '(empty)',
    '--- stderr', tail(r.stderr) || '(empty)',
  ].join('\n');
}

function mustSucceed(r: Ran, what: string): Ran {
  if (r.code !== 0) throw new Error(explain(r, what));
  return r;
}

interface PackJson {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

let tmp = '';
let project = '';
let packed: PackJson;
let keep = false;

describe('examples/pack-author, with packcheck installed from its npm tarball', () => {
  let tarball = '';

  beforeAll(async () => {
    try {
      tmp = mkdtempSync(join(tmpdir(), 'packcheck-example-'));
      const tarballs = join(tmp, 'tarball');
      mkdirSync(tarballs); // npm pack wants the destination to exist
      const pack = mustSucceed(await run('npm', ['pack', '--json', '--pack-destination', tarballs], ROOT), 'npm pack');
      packed = (JSON.parse(pack.stdout) as PackJson[])[0]!;
      tarball = join(tarballs, basename(packed.filename));
      if (!existsSync(tarball)) throw new Error(`npm pack reported ${packed.filename}, but ${tarball} does not exist\n${explain(pack, 'npm pack')}`);
      console.log(`packcheck tarball: ${basename(tarball)}, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`);
    } catch (e) {
      keep = true;
      throw e;
    }
  }, TIMEOUT);

  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      keep = true;
    });
  });

  afterAll(() => {
    if (!tmp) return;
    if (keep) console.log(`left for inspection: ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds what the example needs and none of the repository\'s own tests, caches or scratch files', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'tsconfig.json', 'bin/packcheck.js', 'harness/index.ts', 'harness/vitest-suite.ts', 'harness/cli.ts', 'harness/worker-entry.mjs', 'harness/native/alloc-tracker.c', 'properties/arbitraries/index.ts', 'mocks/vtable-hosts.ts', 'packs-under-test/manifest.ts', 'packs-under-test/wat/reference.wat']) {
      expect(paths, `${p} is missing from the tarball`).toContain(p);
    }
    const stray = paths.filter((p) => /^(test|bench|scratch|examples|\.cache|\.ci|coverage|node_modules)\//.test(p) || p.includes('/.cache/') || /\.(log|wasm|so|tgz)$/.test(p));
    expect(stray, 'files that do not belong in the tarball').toEqual([]);
  });

  describe('in a copy of the example, as its author uses it', () => {
    beforeAll(async () => {
      try {
        // The example as a pack author would have it: no installed modules, no built pack.
        project = join(tmp, 'pack-author');
        cpSync(EXAMPLE, project, {
          recursive: true,
          filter: (src) => {
            const rel = relative(EXAMPLE, src);
            return !rel.split(sep).includes('node_modules') && !rel.endsWith('.wasm');
          },
        });
        if (!existsSync(join(project, 'package.json'))) throw new Error(`the copy of ${EXAMPLE} in ${project} has no package.json`);

        const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
        const devDeps = Object.entries(manifest.devDependencies ?? {})
          .filter(([name]) => name !== 'packcheck')
          .map(([name, spec]) => `${name}@${spec}`);
        mustSucceed(await run('npm', ['install', '--no-audit', '--no-fund', '--save-dev', '--save-exact', tarball, ...devDeps], project), "installing the tarball and the example's devDependencies");
        const build = mustSucceed(await run('node', ['scripts/build-pack.mjs'], project), 'building the pack (scripts/build-pack.mjs)');
        const wasm = join(project, 'pack', 'echo.wasm');
        if (!existsSync(wasm) || !readFileSync(wasm).subarray(0, 4).equals(Buffer.from('\0asm', 'latin1'))) throw new Error(`the build did not write a wasm module to ${wasm}\n${explain(build, 'build')}`);
      } catch (e) {
        keep = true;
        throw e;
      }
    }, TIMEOUT);

    it('npx vitest run: one passing test per wasm property id', async () => {
      const r = await run('npx', ['--no', 'vitest', 'run'], project);
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code, explain(r, 'the example\'s vitest suite')).toBe(0);
      const esc = (id: string) => id.replaceAll('.', '\\.');
      for (const id of WASM_PROPERTY_IDS) {
        // abi.version.expected has nothing to compare with unless expectAbi is given: a skip, with the reason.
        const mark = id === 'abi.version.expected' ? '↓' : '✓';
        expect(out, `no "${mark} … ${id}" line\n${explain(r, 'the example\'s vitest suite')}`).toMatch(new RegExp(`^\\s*${mark} .*> ${esc(id)}(\\s|$)`, 'm'));
      }
      expect(out).toMatch(/✓ .*neither hung nor crashed/);
    }, TIMEOUT);

    it('npx packcheck pack/echo.wasm --json report.json: exit 0 and a report@1 for a wasm pack', async () => {
      const r = await run('npx', ['--no', 'packcheck', 'pack/echo.wasm', '--runs', '10', '--seed', '1', '--json', 'report.json'], project);
      expect(r.code, explain(r, 'the packcheck CLI')).toBe(0);
      const file = join(project, 'report.json');
      expect(existsSync(file), `no report.json was written\n${explain(r, 'the packcheck CLI')}`).toBe(true);
      const report = JSON.parse(readFileSync(file, 'utf8'));
      expect(report.schema).toBe('packcheck/report@1');
      expect(report.pack.abi).toBe('wasm');
      expect(report.exitCode).toBe(0);
      expect(report.options).toMatchObject({ seed: 1, runs: 10 });
      expect(report.summary.failed + report.summary.errored, JSON.stringify(report.summary)).toBe(0);
      expect(report.results.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([...WASM_PROPERTY_IDS]));
    }, TIMEOUT);
  });
});
