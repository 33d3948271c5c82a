// vitest's v8 coverage provider, plus the code that ran in packcheck's
// sandboxes (worker threads, child processes, CLI processes) during the run.
//
// scripts/coverage.mjs runs the suite with PACKCHECK_SANDBOX_JS set: the
// sandboxes run tsc's compiled twin of the sources (with source maps) and
// write Node's raw V8 coverage (NODE_V8_COVERAGE) into .coverage/v8/. Here
// those files are merged per script, mapped through the source maps with the
// provider's own converter (the same one vitest uses for its workers), and
// merged into vitest's coverage map before reports and thresholds: a line
// counts as covered when a test reached it in-process or in a sandbox.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from '@vitest/coverage-v8';

// @bcoe/v8-coverage merges raw V8 coverage: the provider's own dependency, resolved from it.
const fromProvider = createRequire(createRequire(import.meta.url).resolve('@vitest/coverage-v8'));
const { mergeProcessCovs } = await import(pathToFileURL(fromProvider.resolve('@bcoe/v8-coverage')).href);

const ROOT = pathToFileURL(join(import.meta.dirname, '..')).href + '/';
/** Plain JavaScript the sandboxes start from the sources themselves: the entry modules and bin. */
const PLAIN = /^(harness\/.*\.mjs|bin\/packcheck\.js)$/;

/** The sandboxes' raw coverage, only the scripts of the compiled twin and the plain entries, merged. */
function sandboxCoverage(sandboxJs) {
  const dir = join(sandboxJs, '..', 'v8');
  if (!existsSync(dir)) return { result: [] };
  const prefix = pathToFileURL(sandboxJs).href + '/';
  // Compiled code with its source map (the twin's bin is a plain copy: its source is counted as itself).
  const counted = (url) => (url.startsWith(prefix) && existsSync(new URL(`${url}.map`))) || (url.startsWith(ROOT) && PLAIN.test(url.slice(ROOT.length)));
  let merged = { result: [] };
  for (const f of readdirSync(dir)) {
    let raw;
    try {
      raw = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch {
      continue; // a sandbox killed while writing (a timeout test): nothing to count
    }
    const ours = raw.result.filter((s) => counted(s.url));
    if (ours.length) merged = mergeProcessCovs([merged, { result: ours }]);
  }
  return merged;
}

export default {
  ...v8,
  async getProvider() {
    const provider = await v8.getProvider();
    const generate = provider.generateCoverage.bind(provider);
    provider.generateCoverage = async (context) => {
      const map = await generate(context);
      const sandboxJs = process.env.PACKCHECK_SANDBOX_JS;
      if (!sandboxJs) return map;
      const sandboxed = provider.createCoverageMap();
      for (const script of sandboxCoverage(sandboxJs).result) {
        const file = new URL(script.url);
        const code = readFileSync(file, 'utf8');
        const mapFile = new URL(`${file.href}.map`);
        // A plain entry is its own source; compiled code maps back to the sources.
        let sourceMap;
        if (existsSync(mapFile)) {
          sourceMap = JSON.parse(readFileSync(mapFile, 'utf8'));
          // Absolute sources, as the provider's own getSources makes them.
          sourceMap.sources = sourceMap.sources.map((s) => new URL(s, file).href);
        }
        sandboxed.merge(await provider.remapCoverage(script.url, 0, { code, map: sourceMap }, script.functions));
      }
      sandboxed.filter((filename) => existsSync(filename) && provider.isIncluded(filename));
      // The same source maps to different statements through vite's
      // transform (vitest's workers) and tsc's (the sandboxes), so the two
      // maps are not merged statement by statement (that would count one
      // line's code twice). A file only the sandboxes ran is taken from them;
      // a file both ran keeps vitest's statements, each counted as reached
      // when a sandbox reached code starting on its line (line coverage,
      // what the thresholds hold, is then the union of the two).
      for (const file of sandboxed.files()) {
        const theirs = sandboxed.fileCoverageFor(file);
        const own = map.data[file] ? map.fileCoverageFor(file) : null;
        if (!own || Object.values(own.s).every((n) => n === 0)) {
          map.data[file] = theirs;
          continue;
        }
        const reached = theirs.getLineCoverage();
        for (const [k, loc] of Object.entries(own.statementMap)) {
          if (own.s[k] === 0 && reached[loc.start.line] > 0) own.s[k] = reached[loc.start.line];
        }
        const called = new Map(Object.entries(theirs.fnMap).map(([k, fn]) => [fn.decl.start.line, theirs.f[k]]));
        for (const [k, fn] of Object.entries(own.fnMap)) {
          if (own.f[k] === 0 && called.get(fn.decl.start.line) > 0) own.f[k] = called.get(fn.decl.start.line);
        }
      }
      return map;
    };
    return provider;
  },
};
