// `packcheck host ADAPTER`: a JS wasm-pack host, through its adapter;
// `packcheck host --native ADAPTER`: a native loader, through its executable.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { lifeline } from '../kernel/lifeline.ts';
import { resultLines, summaryLine } from '../report/terminal.ts';
import { checkAdapterImport, checkHost } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import type { HostReport } from '../run/host-runner.ts';
import type { NativeHostReport } from '../run/nhost-runner.ts';
import { expectationLines, loadExpectations, writeExpectFile, writeOutputs } from './common.ts';
import { coverReport, withExpectations } from '../run/expect.ts';

export async function checkHostCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  if (parsed.native) return checkNativeHostCli(parsed, out, err);
  const adapter = parsed.paths[1];
  if (!adapter || parsed.paths.length > 2) {
    err('packcheck: usage: packcheck host ADAPTER [options] (one adapter module)');
    return 2;
  }
  if (!existsSync(adapter)) {
    err(`packcheck: ${adapter}: no such adapter module; give the path of a module whose default export is an async factory of a HostUnderTest`);
    return 2;
  }
  // Imported in a worker as the check will import it: Node's own loader for
  // JavaScript, tsx (when installed) for TypeScript.
  const importError = await checkAdapterImport(adapter);
  if (importError) {
    err(`packcheck: ${importError}`);
    return 2;
  }
  const expectations = loadExpectations(parsed, err);
  if (expectations === 'refused') return 2;
  const { opts } = parsed;
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; the host check did not finish and no report was written`));
  const checked = await checkHost(adapter, opts);
  disarm();
  return finish(parsed, adapter, checked, expectations, [`packcheck host ${adapter}`, `  seed ${opts.seed}, ${opts.runs} runs per property (a fifth for the lifecycle properties), timeout ${opts.timeoutMs} ms per adapter call`], out, err);
}


/**
 * The end of a host check, JS or native: the adapter's expectations applied
 * (matched by its path or sha256), the terminal report, the files.
 */
function finish<R extends HostReport | NativeHostReport>(parsed: Parsed, adapter: string, checked: R, expectations: Exclude<ReturnType<typeof loadExpectations>, 'refused'>, header: string[], out: Out, err: Out): number {
  // The adapter's sha256, so that a baseline or an expectation can name it by content.
  const subject = { path: adapter, sha256: createHash('sha256').update(readFileSync(adapter)).digest('hex') };
  const covered = { ...(expectations ? coverReport(expectations, subject, checked) : checked), host: { ...checked.host, sha256: subject.sha256 } } as R;
  const section = expectations?.section(false);
  const rep = section ? withExpectations(covered, section) : covered;
  for (const l of header) out(l);
  for (const l of resultLines(rep.results)) out(l);
  out(summaryLine(rep));
  for (const l of expectationLines(section)) out(l);
  if (!writeOutputs(parsed, rep, [rep], err)) return 2;
  if (!writeExpectFile(parsed, expectations, [{ subject, results: rep.results }], out, err)) return 2;
  return rep.exitCode ? 1 : 0;
}

/** Why ADAPTER cannot be run as an executable, in one line, or null. */
function notExecutable(adapter: string): string | null {
  let isFile: boolean;
  try {
    isFile = statSync(adapter).isFile();
  } catch {
    return `${adapter}: no such adapter executable; give the path of the program that loads packs with your loader (see README, "Checking a native host")`;
  }
  if (!isFile) return `${adapter}: not a file; give the adapter executable itself`;
  try {
    accessSync(adapter, constants.X_OK);
  } catch {
    return `${adapter}: not executable; chmod +x it (or give the built binary)`;
  }
  return null;
}

async function checkNativeHostCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const adapter = parsed.paths[1];
  if (!adapter || parsed.paths.length > 2) {
    err('packcheck: usage: packcheck host --native ADAPTER --expect-abi N [options] (one adapter executable)');
    return 2;
  }
  const problem = notExecutable(adapter);
  if (problem) {
    err(`packcheck: ${problem}`);
    return 2;
  }
  const { opts } = parsed;
  if (opts.expectAbi === null) {
    err("packcheck: host --native needs the host's ABI version: pass --expect-abi N, or --rustc-vv FILE with the `rustc -vV` output of the rustc that built the host");
    return 2;
  }
  const expectations = loadExpectations(parsed, err);
  if (expectations === 'refused') return 2;
  const { checkNativeHost, NativeHostSetupError } = await import('../run/nhost-runner.ts');
  // An adapter named without a slash would be looked up in PATH by spawn: run the file that was checked.
  const path = adapter.includes('/') ? adapter : `./${adapter}`;
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; the native host check did not finish and no report was written`));
  let rep;
  try {
    rep = await checkNativeHost(path, opts);
  } catch (e) {
    disarm();
    if (e instanceof NativeHostSetupError) {
      err(`packcheck: ${e.message}`);
      return 2;
    }
    throw e;
  }
  disarm();
  return finish(parsed, adapter, rep, expectations, [`packcheck host --native ${adapter}`, `  host ABI ${rep.host.abi}, ${rep.host.scenarios.length} scenario(s), timeout ${opts.timeoutMs} ms per adapter process`], out, err);
}
