// Where a property's time goes, for `npm run bench -- --profile`: time
// inside the pack's own calls, the checked host's work after each call,
// instantiation, the property bodies and shrinking. Off unless the process
// (and so its workers) has PACKCHECK_PROFILE=1: the hot path then pays one
// test of a module-level flag per call.

export interface PhaseTimes {
  /** Inside the pack's exports (the floor: the pack's own work). */
  packMs: number;
  /** The checked host after each call: ledger, block verification. */
  checkMs: number;
  /** New instances (WebAssembly.Instance and its imports). */
  instantiateMs: number;
  /** Property bodies (the runs fast-check makes), shrinking included. */
  bodyMs: number;
  /** Property bodies run while shrinking (after the first failure). */
  shrinkMs: number;
  /** The whole fast-check call (or the single check): generation is this minus bodyMs. */
  totalMs: number;
  packCalls: number;
  /** fast-check runs (0: a single check, whose body is the whole time). */
  fcRuns: number;
}

export const PROFILING = typeof process !== 'undefined' && process.env?.['PACKCHECK_PROFILE'] === '1';

export const phases: PhaseTimes = emptyPhases();

export function emptyPhases(): PhaseTimes {
  return { packMs: 0, checkMs: 0, instantiateMs: 0, bodyMs: 0, shrinkMs: 0, totalMs: 0, packCalls: 0, fcRuns: 0 };
}

/** The times gathered since the last call, and a fresh start. */
export function takePhases(): PhaseTimes {
  const t = { ...phases };
  Object.assign(phases, emptyPhases());
  return t;
}
