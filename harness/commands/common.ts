// What the subcommands share: the progress line and the report files.
import { writeFileSync } from 'node:fs';
import { toJUnit } from '../report/junit.ts';
import { toHtml } from '../report/html.ts';
import { writeJson } from '../report/json.ts';
import type { PackReport } from '../report/model.ts';
import type { HostReport } from '../run/host-runner.ts';
import type { Out, Parsed } from '../cli.ts';

/** The live progress line: on a TTY stderr only, and not with --quiet. */
export class Progress {
  private readonly on: boolean;
  private readonly t0 = performance.now();
  constructor(quiet: boolean) {
    this.on = !quiet && Boolean(process.stderr.isTTY);
  }
  show(text: string): void {
    if (this.on) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 12)} ${((performance.now() - this.t0) / 1000).toFixed(1)}s`);
  }
  clear(): void {
    if (this.on) process.stderr.write('\r\x1b[K');
  }
}

/** Writes --json/--junit/--html; false (after one line on stderr) when a file cannot be written. */
export function writeOutputs(parsed: Parsed, json: unknown, reports: (PackReport | HostReport)[], err: Out): boolean {
  const outputs: [string | undefined, () => void][] = [
    [parsed.json, () => writeJson(parsed.json!, json)],
    [parsed.junit, () => writeFileSync(parsed.junit!, toJUnit(reports))],
    [parsed.html, () => writeFileSync(parsed.html!, toHtml(reports))],
  ];
  for (const [file, write] of outputs) {
    if (!file) continue;
    try {
      write();
    } catch (e) {
      err(`packcheck: cannot write ${file}: ${(e as Error).message}`);
      return false;
    }
  }
  return true;
}
