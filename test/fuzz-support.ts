// What the fuzz tests share: the packcheck CLI run as a child process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);
export const BIN = new URL('../bin/packcheck.js', import.meta.url).pathname;

/** `packcheck ARGS…`: its exit code and output (a non-zero exit is an answer, not an error). */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/**
 * What every deep target's artifact must do: `packcheck replay PACK ARTIFACT`
 * exits 1 with the battery's FAIL line for `id` and the artifact's own replay
 * line; on the reference pack (when given) the same input passes, exit 0.
 */
export async function expectReplays(pack: string, artifact: string, id: string, reference?: string): Promise<void> {
  const replay = await cli('replay', pack, artifact);
  expect(replay.code).toBe(1);
  expect(replay.stdout).toContain(`FAIL  ${id}`);
  expect(replay.stdout).toContain(`replay: packcheck replay ${pack} ${artifact}`);
  if (reference !== undefined) expect((await cli('replay', reference, artifact)).code).toBe(0);
}
