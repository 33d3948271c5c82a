// `packcheck host ADAPTER`: a JS wasm-pack host, through its adapter.
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { lifeline } from '../kernel/lifeline.ts';
import { resultLines, summaryLine } from '../report/terminal.ts';
import { checkAdapterImport, checkHost } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import { expectationLines, loadExpectations, writeExpectFile, writeOutputs } from './common.ts';
import { coverReport, withExpectations } from '../run/expect.ts';

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
  const expectations = loadExpectations(parsed, err);
  if (expectations === 'refused') return 2;
  const { opts } = parsed;
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; the host check did not finish and no report was written`));
  const checked = await checkHost(adapter, opts);
  disarm();
  // The adapter's sha256, so that a baseline or an expectation can name it by content.
  const subject = { path: adapter, sha256: createHash('sha256').update(readFileSync(adapter)).digest('hex') };
  const covered = { ...(expectations ? coverReport(expectations, subject, checked) : checked), host: { ...checked.host, sha256: subject.sha256 } };
  const section = expectations?.section(false);
  const rep = section ? withExpectations(covered, section) : covered;
  out(`packcheck host ${adapter}`);
  out(`  seed ${opts.seed}, ${opts.runs} runs per property (a fifth for the lifecycle properties), timeout ${opts.timeoutMs} ms per adapter call`);
  for (const l of resultLines(rep.results)) out(l);
  out(summaryLine(rep));
  for (const l of expectationLines(section)) out(l);
  if (!writeOutputs(parsed, rep, [rep], err)) return 2;
  if (!writeExpectFile(parsed, expectations, [{ subject, results: rep.results }], out, err)) return 2;
  return rep.exitCode ? 1 : 0;
}
