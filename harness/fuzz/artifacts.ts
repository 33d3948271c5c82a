// Findings as files: one JSON file per distinct finding in the artifacts
// directory, named by the content hash of its input, with the one line that
// replays it through the checked, uninstrumented host.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellWord } from '../run/replay.ts';
import { inputHash, parseInput, type FuzzInput } from './input.ts';

export const ARTIFACT_SCHEMA = 'packcheck/fuzz-artifact@1';
export const DEFAULT_ARTIFACTS = './packcheck-artifacts';

export interface Artifact {
  schema: typeof ARTIFACT_SCHEMA;
  pack: { path: string; sha256: string };
  id: string;
  message: string;
  input: FuzzInput;
}

export function replayCommand(packPath: string, artifactPath: string): string {
  return `packcheck replay ${shellWord(packPath)} ${shellWord(artifactPath)}`;
}

/** Writes the artifact; returns its path (the same input always lands in the same file). */
export function writeArtifact(dir: string, a: Omit<Artifact, 'schema'>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${inputHash(a.input)}.json`);
  writeFileSync(file, `${JSON.stringify({ schema: ARTIFACT_SCHEMA, ...a }, null, 2)}\n`);
  return file;
}

/** An artifact file's input (a corpus file, a bare input, or an artifact), or why it cannot be read. */
export function readArtifactInput(file: string): FuzzInput | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `cannot read ${file}`;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${file} is not JSON`;
  }
  const o = v as { input?: unknown };
  const input = parseInput(typeof o === 'object' && o !== null && 'input' in o ? o.input : v);
  return typeof input === 'string' ? `${file} is not a fuzz artifact (${input})` : input;
}
