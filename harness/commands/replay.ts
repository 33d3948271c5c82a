// `packcheck replay PACK ARTIFACT`: re-runs a fuzz artifact's input through
// the checked host on the uninstrumented pack, in a worker under the
// watchdog, and prints the verdict in the battery's failure format. Exit 0
// when the input no longer fails, 1 when it still does, 2 on bad arguments.
import { LoadError, readWasmPack } from '../run/pack-file.ts';
import { resultLine } from '../report/terminal.ts';
import type { Out } from '../cli.ts';
import { DEFAULTS } from '../run/replay.ts';
import { readArtifactInput, replayCommand } from '../fuzz/artifacts.ts';
import { FuzzLane } from '../fuzz/lane.ts';
import { hangMessage } from '../fuzz/minimise.ts';

export async function replayCli(argv: string[], out: Out, err: Out): Promise<number> {
  const args = argv.filter((a) => !a.startsWith('--timeout-ms'));
  const t = argv.find((a) => a.startsWith('--timeout-ms='));
  const timeoutMs = t ? Number(t.split('=')[1]) : DEFAULTS.timeoutMs;
  if (args.length !== 2 || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
    err('packcheck replay: give the pack and one artifact: packcheck replay PACK ARTIFACT [--timeout-ms=T]');
    return 2;
  }
  const [packPath, artifact] = args as [string, string];
  let file;
  try {
    file = await readWasmPack(packPath, 'fuzz artifacts replay on the .wasm pack they were found on');
  } catch (e) {
    if (e instanceof LoadError) return err(`packcheck replay: ${e.message}`), 2;
    throw e;
  }
  const input = readArtifactInput(artifact);
  if (typeof input === 'string') return err(`packcheck replay: ${input}; give a file packcheck fuzz wrote into its artifacts directory`), 2;
  let lane: FuzzLane;
  try {
    lane = await FuzzLane.open({ bytes: file.bytes, timeoutMs, profile: 'sdk', plain: true, cmplog: false, instrumented: null });
  } catch (e) {
    return err(`packcheck replay: cannot run ${file.path}: ${(e as Error).message}`), 2;
  }
  if (!lane.templates.some((x) => x.name === input.template)) {
    await lane.close();
    return err(`packcheck replay: ${file.path} registers no template "${input.template}" (it has: ${lane.templates.map((x) => x.name).join(', ') || 'none'})`), 2;
  }
  const t0 = performance.now();
  const got = await lane.judge([input]);
  await lane.close();
  const ms = performance.now() - t0;
  const replay = replayCommand(packPath, artifact);
  if ('kind' in got) {
    const message = got.kind === 'timeout' ? hangMessage(got.call, { timeoutMs }) : `the worker running the pack died: ${got.why}`;
    out(resultLine({ id: got.kind === 'timeout' ? 'harness.timeout' : 'harness.crash', status: 'failed', runs: 1, durationMs: ms, seed: 0, message, counterexample: input, replay }));
    return 1;
  }
  const v = got[0];
  if (!v) {
    out(`  pass  ${file.path}: the input of ${artifact} (${input.ticks.length} tick(s) on ${input.template}) no longer fails`);
    return 0;
  }
  out(resultLine({ id: v.id, status: 'failed', runs: 1, durationMs: ms, seed: 0, message: v.message, counterexample: input, replay }));
  return 1;
}
