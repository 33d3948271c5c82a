// How many runs or cycles the properties with a budget of their own take:
// plain data, so that `packcheck --help` can state them without loading the
// property modules.

/** wasm.run.large-payload's runs: a twentieth of --runs, at least 2. */
export function largeRuns(runs: number): number {
  return Math.max(2, Math.round(runs / 20));
}

/** The no-leak measurements (properties/measure.ts): warm-up cycles, then measured cycles. */
export const WARMUP_CYCLES = 1000;
export const MEASURED_CYCLES = 20000;
