// Builds C sources with the machine's compiler into a content-addressed
// cache: the probe packs of `host --native` and, in the tests, the native
// host adapters. Same source and flags, same file: a second run (or a
// second process) finds it and runs no compiler.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../../run/cache-dir.ts';

/** No C compiler here, or the source did not compile: what to do, in one line. */
export class CcUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CcUnavailable';
  }
}

let compiler: { cmd: string; args: string[] } | null | undefined;

function findCc(): { cmd: string; args: string[] } | null {
  const tries = [...(process.env.CC?.trim() ? [process.env.CC.trim().split(/\s+/)] : []), ['cc'], ['gcc'], ['clang']];
  for (const [cmd, ...args] of tries) {
    if (cmd && spawnSync(cmd, [...args, '--version']).status === 0) return { cmd, args };
  }
  return null;
}

export interface CcBuild {
  /** The C text to compile (the generated defines and the template, together). */
  source: string;
  /** Compiler flags (`-shared -fPIC` for a pack; none for an executable). */
  flags: readonly string[];
  /** Libraries, after the source. */
  libs?: readonly string[];
  /** The output's file name inside its content folder (two probes may share a name in two folders). */
  fileName: string;
  /** The cache subfolder. */
  under: string;
}

/** The built file's path; builds it when the cache lacks it. Throws CcUnavailable. */
export function ccBuild(b: CcBuild): string {
  const hash = createHash('sha256').update(b.source).update(`\0${b.flags.join(' ')}\0${(b.libs ?? []).join(' ')}\0${b.fileName}`).digest('hex').slice(0, 16);
  const dir = join(cacheDir(b.under), hash);
  const out = join(dir, b.fileName);
  if (existsSync(out)) return out;
  compiler ??= findCc();
  if (!compiler) throw new CcUnavailable('no C compiler (tried $CC, cc, gcc, clang): install one (apt-get install -y gcc)');
  mkdirSync(dir, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const src = join(dir, `source.${tag}.c`);
  const tmp = `${out}.${tag}.tmp`;
  writeFileSync(src, b.source);
  const run = spawnSync(compiler.cmd, [...compiler.args, ...b.flags, '-o', tmp, src, ...(b.libs ?? [])], { encoding: 'utf8' });
  rmSync(src, { force: true });
  if (run.error || run.status !== 0) {
    rmSync(tmp, { force: true });
    const why = run.error?.message ?? `${run.stderr}${run.stdout}`.split('\n').find((l) => /error/i.test(l)) ?? `exit ${run.status}`;
    throw new CcUnavailable(`building ${b.fileName} with ${compiler.cmd} failed: ${why.trim()}`);
  }
  // link() never replaces: of two builds racing on a cold cache the first to land is kept.
  try {
    linkSync(tmp, out);
  } catch (e) {
    if (!existsSync(out)) throw new CcUnavailable(`cannot store ${out}: ${(e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
  return out;
}
