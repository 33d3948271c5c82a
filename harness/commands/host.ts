// `packcheck host ADAPTER`: a JS wasm-pack host, through its adapter.
import { existsSync } from 'node:fs';
import { lifeline } from '../kernel/lifeline.ts';
import { resultLines, summaryLine } from '../report/terminal.ts';
import { checkAdapterImport, checkHost } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import { writeOutputs } from './common.ts';

export async function checkHostCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
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
