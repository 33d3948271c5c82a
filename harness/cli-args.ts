// Argument words before Node's parseArgs reads them, for every subcommand.
import type { ParseArgsConfig } from 'node:util';

/**
 * `--seed -5` as two words: Node 20's parseArgs takes `-5` for an option
 * (it has no allowNegative), so a negative number after an option that takes
 * a value is joined to it (`--seed=-5`), as a user who copied a seed means.
 */
export function joinNegativeValues(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
