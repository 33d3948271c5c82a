// `packcheck diff OLD NEW`: two builds of one pack compared (harness/run/diff/).
// Its options are its own, parsed here: the check's options mean nothing to it.
import { parseArgs } from 'node:util';
import { joinNegativeValues } from '../cli-args.ts';
import { LoadError, readPack } from '../run/pack-file.ts';
import { DEFAULTS } from '../run/replay.ts';
import { DIFF_KINDS, type DiffKind, type DiffOptions } from '../run/diff/model.ts';
import { writeJson } from '../report/json.ts';
import { diffExitCode, diffReport } from '../report/diff-json.ts';
import { diffLines } from '../report/diff-terminal.ts';
import { lifeline } from '../kernel/lifeline.ts';
import type { Out } from '../cli.ts';

class DiffUsage extends Error {}

function whole(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) throw new DiffUsage(`--${name} takes a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

const DIFF_OPTIONS = {
  seed: { type: 'string' },
  runs: { type: 'string' },
  path: { type: 'string' },
  json: { type: 'string' },
  'ignore-error-text': { type: 'boolean' },
  allow: { type: 'string', multiple: true },
  'timeout-ms': { type: 'string' },
  entrypoint: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export function parseDiff(argv: string[]): { old: string; new: string; opts: DiffOptions; json?: string; quiet: boolean; seedGiven: boolean } {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: joinNegativeValues(argv, DIFF_OPTIONS),
      allowPositionals: true,
      strict: true,
      options: DIFF_OPTIONS,
    }));
  } catch (e) {
    throw new DiffUsage(`${(e as Error).message.split('\n')[0]} (see packcheck --help)`);
  }
  if (positionals.length !== 2) throw new DiffUsage(`diff takes two packs, OLD and NEW (got ${positionals.length}): packcheck diff old.wasm new.wasm`);
  const allow = (values.allow ?? []).flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean);
  for (const k of allow) if (!(DIFF_KINDS as readonly string[]).includes(k)) throw new DiffUsage(`--allow: unknown kind ${JSON.stringify(k)}; the kinds are ${DIFF_KINDS.join(', ')}`);
  const seed = whole('seed', values.seed, -(2 ** 31), 2 ** 31 - 1);
  if (values.path !== undefined && seed === undefined) throw new DiffUsage('--path needs the --seed it was found with (copy the whole replay line)');
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new DiffUsage(`--path takes the path of a difference's replay line (such as 3:0:1), got ${JSON.stringify(values.path)}`);
  return {
    old: positionals[0]!,
    new: positionals[1]!,
    json: values.json,
    quiet: values.quiet ?? false,
    seedGiven: seed !== undefined,
    opts: {
      seed: seed ?? ((Math.random() * 2 ** 31) | 0),
      runs: whole('runs', values.runs, 1, 1_000_000) ?? DEFAULTS.runs,
      path: values.path,
      ignoreErrorText: values['ignore-error-text'] ?? false,
      allow: [...new Set(allow)] as DiffKind[],
      timeoutMs: whole('timeout-ms', values['timeout-ms'], 1, 3_600_000) ?? DEFAULTS.timeoutMs,
      entrypoint: values.entrypoint,
    },
  };
}

export async function diffCli(argv: string[], out: Out, err: Out): Promise<number> {
  let parsed: ReturnType<typeof parseDiff>;
  try {
    parsed = parseDiff(argv);
  } catch (e) {
    if (e instanceof DiffUsage) return err(`packcheck: ${e.message}`), 2;
    throw e;
  }
  const { opts } = parsed;
  let files;
  try {
    files = [await readPack(parsed.old), await readPack(parsed.new)] as const;
  } catch (e) {
    if (e instanceof LoadError) return err(`packcheck: ${e.message}`), 2;
    throw e;
  }
  const { assertComparable, diffPacks } = await import('../run/diff/diff.ts');
  try {
    assertComparable(files[0], files[1]);
  } catch (e) {
    if (e instanceof LoadError) return err(`packcheck: ${e.message}`), 2;
    throw e;
  }
  if (!parsed.seedGiven && !parsed.quiet) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this diff)`);
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; nothing was written`));
  let result;
  try {
    result = await diffPacks(files[0], files[1], opts);
  } catch (e) {
    disarm();
    if (e instanceof LoadError) return err(`packcheck: ${e.message}`), 2;
    throw e;
  }
  disarm();
  for (const d of result.differences) if (opts.allow.includes(d.kind)) d.allowed = true;
  if (!parsed.quiet) for (const l of diffLines(result)) out(l);
  if (parsed.json) {
    try {
      writeJson(parsed.json, diffReport(result, opts));
    } catch (e) {
      return err(`packcheck: cannot write ${parsed.json}: ${(e as Error).message}`), 2;
    }
  }
  return diffExitCode(result);
}
