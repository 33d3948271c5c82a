// Running npm, npx and node in temporary projects, as a consumer of the
// packed package would (test/example.test.ts, test/package.test.ts).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');
export const TIMEOUT = 300_000;

// The child npm and vitest must not inherit the outer run's npm settings
// (npm_config_prefix, npm_config_omit, … from an `npm test`) or this vitest's
// own variables; network and registry settings are kept.
const KEEP_NPM = /^npm_config_(registry|cache|userconfig|proxy|https_proxy|http_proxy|noproxy|cafile|ca|strict_ssl|fetch_\w+|@[\w.-]+:registry)$/i;
export const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^npm_/i.test(k) && !KEEP_NPM.test(k)) continue;
  // Nor the coverage run's (npm run coverage): npm is not what it measures.
  if (/^(VITEST|INIT_CWD$|NODE_ENV$|FORCE_COLOR$|NODE_V8_COVERAGE$|PACKCHECK_SANDBOX_JS$)/.test(k)) continue;
  env[k] = v;
}
env.NO_COLOR = '1';
env.npm_config_update_notifier = 'false';

export interface Ran {
  command: string;
  cwd: string;
  code: number | string | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...env, ...extraEnv }, maxBuffer: 1 << 26, timeout: TIMEOUT, shell: process.platform === 'win32' }, (err, stdout, stderr) => {
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
export function explain(r: Ran, what: string): string {
  return [
    `${what}: \`${r.command}\` in ${r.cwd} exited with ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}`,
    '--- stdout', tail(r.stdout) || '(empty)',
    '--- stderr', tail(r.stderr) || '(empty)',
  ].join('\n');
}

export function mustSucceed(r: Ran, what: string): Ran {
  if (r.code !== 0) throw new Error(explain(r, what));
  return r;
}

export interface PackJson {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

/** `npm pack` of this repository (its prepare/prepack build included) into `dir`: the tarball's path and npm's listing. */
export async function packInto(dir: string): Promise<{ tarball: string; packed: PackJson }> {
  mkdirSync(dir, { recursive: true }); // npm pack wants the destination to exist
  const pack = mustSucceed(await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT), 'npm pack');
  const packed = (JSON.parse(pack.stdout) as PackJson[])[0]!;
  const tarball = join(dir, basename(packed.filename));
  if (!existsSync(tarball)) throw new Error(`npm pack reported ${packed.filename}, but ${tarball} does not exist\n${explain(pack, 'npm pack')}`);
  return { tarball, packed };
}

/**
 * The describe block's temporary folder: made before its tests, removed after
 * them unless a test or a setup step (which sets `keep`) failed; then it is
 * left, and its path printed.
 */
export function tempFolder(prefix: string): { path: string; keep: boolean } {
  const t = { path: '', keep: false };
  beforeAll(() => {
    t.path = mkdtempSync(join(tmpdir(), prefix));
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      t.keep = true;
    });
  });
  afterAll(() => {
    if (!t.path) return;
    if (t.keep) console.log(`left for inspection: ${t.path}`);
    else rmSync(t.path, { recursive: true, force: true });
  });
  return t;
}
