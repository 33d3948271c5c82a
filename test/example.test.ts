// examples/pack-author, used the way a pack author uses packcheck: packcheck
// installed from the tarball `npm pack` makes (so bin, exports, types and
// "files" are what a consumer gets), the example's own vitest suite, and the
// CLI through npx. Everything happens in temp dirs; it needs the npm registry
// for vitest and vite.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { explain, mustSucceed, packInto, ROOT, run, tempFolder, TIMEOUT } from './support/npm.ts';

const EXAMPLE = join(ROOT, 'examples', 'pack-author');

let project = '';

describe('examples/pack-author, with packcheck installed from its npm tarball', () => {
  const tmp = tempFolder('packcheck-example-');
  let tarball = '';

  beforeAll(async () => {
    try {
      ({ tarball } = await packInto(join(tmp.path, 'tarball')));
    } catch (e) {
      tmp.keep = true;
      throw e;
    }
  }, TIMEOUT);

  describe('in a copy of the example, as its author uses it', () => {
    beforeAll(async () => {
      try {
        // The example as a pack author would have it: no installed modules, no built pack.
        project = join(tmp.path, 'pack-author');
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
        tmp.keep = true;
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

    it("the workflow's regression job: a baseline on main, then --baseline and compare on a pull request", async () => {
      // The same commands as .github/workflows/packcheck.yml's regression job (--runs 10 to keep it short).
      const main = await run('npx', ['--no', 'packcheck', 'pack/echo.wasm', '--runs', '10', '--json', 'main.json'], project);
      expect(main.code, explain(main, 'the baseline run')).toBe(0);
      const pr = await run('npx', ['--no', 'packcheck', 'pack/echo.wasm', '--runs', '10', '--baseline', 'main.json', '--json', 'pr.json', '--junit', 'pr.xml'], project);
      expect(pr.code, explain(pr, 'the run against the baseline')).toBe(0);
      const base = JSON.parse(readFileSync(join(project, 'main.json'), 'utf8'));
      const now = JSON.parse(readFileSync(join(project, 'pr.json'), 'utf8'));
      // The baseline's seed: the same inputs are generated.
      expect(now.options.seed).toBe(base.options.seed);
      const cmp = await run('npx', ['--no', 'packcheck', 'compare', 'main.json', 'pr.json', '--html', 'changes.html'], project);
      expect(cmp.code, explain(cmp, 'compare')).toBe(0);
      expect(readFileSync(join(project, 'changes.html'), 'utf8')).toMatch(/<!DOCTYPE html>/);
    }, TIMEOUT);
  });
});
