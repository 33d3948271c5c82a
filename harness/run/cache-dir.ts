// Where packcheck caches what it builds (packs under test, the allocation
// tracker): PACKCHECK_CACHE_DIR if set, else .cache/ in the package when it
// is writable, else a per-user folder under the system temp directory (an
// installed package may sit in a read-only node_modules).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IN_PACKAGE = fileURLToPath(new URL('../../.cache/', import.meta.url));
let chosen: string | null = null;

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function cacheDir(sub: string): string {
  chosen ??= process.env.PACKCHECK_CACHE_DIR || (writable(IN_PACKAGE) ? IN_PACKAGE : join(tmpdir(), `packcheck-cache-${userInfo().uid}`));
  return join(chosen, sub);
}
