// `packcheck host ADAPTER`: a JS wasm-pack host, through its adapter;
// `packcheck host --native ADAPTER`: a native loader, through its executable.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { lifeline } from '../kernel/lifeline.ts';
import { resultLines, summaryLine } from '../report/terminal.ts';
import { checkAdapterImport, checkHost } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import { writeOutputs } from './common.ts';

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
  const { opts } = parsed;
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; the host check did not finish and no report was written`));
  const rep = await checkHost(adapter, opts);
  disarm();
  out(`packcheck host ${adapter}`);
  out(`  seed ${opts.seed}, ${opts.runs} runs per property (a fifth for the lifecycle properties), timeout ${opts.timeoutMs} ms per adapter call`);
  for (const l of resultLines(rep.results)) out(l);
  out(summaryLine(rep));
  if (!writeOutputs(parsed, rep, [rep], err)) return 2;
  return rep.exitCode;
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
  out(`packcheck host --native ${adapter}`);
  out(`  host ABI ${rep.host.abi}, ${rep.host.scenarios.length} scenario(s), timeout ${opts.timeoutMs} ms per adapter process`);
  for (const l of resultLines(rep.results)) out(l);
  out(summaryLine(rep));
  if (!writeOutputs(parsed, rep, [rep], err)) return 2;
  return rep.exitCode;
}
