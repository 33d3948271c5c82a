// Writes the reference packs `packcheck` with no pack checks into a folder, as
// data for the built package (scripts/build.mjs runs this through tsx at
// prepare and prepack time): each pack, its WAT source (the pack-author
// example seeds its pack from it) and index.json (harness/run/reference-packs.ts
// reads it). Built from packs-under-test/, cached by content hash.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { referencePacks } from '../packs-under-test/reference.ts';
import { WAT_REFERENCE } from '../packs-under-test/build.ts';
import type { ReferenceIndex } from '../harness/run/reference-packs.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: node --import tsx scripts/reference-packs.ts OUT_DIR');
mkdirSync(out, { recursive: true });
const set = await referencePacks();
const index: ReferenceIndex = { packs: [], missing: set.missing };
for (const p of set.packs) {
  const file = `${p.name}${extname(p.path)}`;
  copyFileSync(p.path, join(out, file));
  // The native pack carries the debug info of Debian's Rust std (11 MB of its 12): stripped where binutils is.
  if (extname(p.path) === '.so') {
    try {
      execFileSync('strip', ['--strip-debug', join(out, file)], { stdio: 'ignore' });
    } catch {
      // no strip here: shipped as built
    }
  }
  index.packs.push({ name: p.name, file, expectAbi: p.expectAbi, ...(extname(p.path) === '.so' ? { platform: `${process.platform}-${process.arch}` } : {}) });
}
copyFileSync(WAT_REFERENCE, join(out, 'wat-reference.wat'));
writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
console.log(`reference packs: ${index.packs.map((p) => p.name).join(', ')}${set.missing.length ? `; not built: ${set.missing.join('; ')}` : ''}`);
