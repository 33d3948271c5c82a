// The result model of `packcheck diff` (../shared/REPORT.md, packcheck/diff@1).

export const DIFF_KINDS = ['abi-version', 'exports', 'imports', 'templates', 'ports', 'status', 'output', 'error-vs-success', 'trap', 'symbols', 'registration', 'ownership'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

export interface Difference {
  kind: DiffKind;
  /** The template the input ran on (dynamic wasm differences, templates and ports). */
  template?: string;
  /** The export, import or symbol that differs. */
  name?: string;
  /** The (shrunk) input both builds were given. */
  input?: unknown;
  /** Dynamic differences: the index of the first tick (0-based) whose answers differ; -1 for create_actor. */
  tick?: number;
  old: unknown;
  new: unknown;
  /** The command that shows exactly this difference again. */
  replay: string;
  /** Listed with --allow: reported, not failing. */
  allowed?: boolean;
}

export interface DiffOptions {
  seed: number;
  runs: number;
  ignoreErrorText: boolean;
  allow: DiffKind[];
  timeoutMs: number;
  /** Replay one generated input (from a difference's replay line). */
  path?: string;
  entrypoint?: string;
}
