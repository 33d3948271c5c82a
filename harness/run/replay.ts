// The one command line that reproduces a result exactly.
import type { CheckOptions } from '../../properties/types.ts';

export const DEFAULTS = { runs: 100, timeoutMs: 2000, profile: 'sdk' } as const;

/** Quotes a word for a POSIX shell when it needs it. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `subcommand`: `host` for host checks (`packcheck host ADAPTER …`). */
export function replayLine(packPath: string, id: string, opts: CheckOptions, fcPath?: string, subcommand?: string): string {
  // No id: the whole check (a harness result of the survey).
  const words = ['packcheck', ...(subcommand ? [subcommand] : []), shellWord(packPath), ...(id ? ['--only', id] : []), '--seed', String(opts.seed)];
  if (fcPath) words.push('--path', shellWord(fcPath));
  if (opts.runs !== DEFAULTS.runs) words.push('--runs', String(opts.runs));
  if (opts.timeoutMs !== DEFAULTS.timeoutMs) words.push('--timeout-ms', String(opts.timeoutMs));
  if (opts.profile !== DEFAULTS.profile) words.push('--profile', opts.profile);
  if (opts.expectAbi !== null) words.push('--expect-abi', String(opts.expectAbi));
  return words.join(' ');
}
