// What one build did with one generated input, as both sides of a diff
// exchange it (plain data: it crosses worker and process boundaries).
import type { Template } from '../../abi/registration.ts';

/** One tick: an answer, or the call that did not return normally. */
export type TickSeen =
  | { status: number; result: Uint8Array | null }
  /** `key` is what two builds are compared on (the trap without addresses); `detail` is shown. */
  | { trap: string; key: string; detail: string };

/** A multi-tick sequence on one instance of one template, on a fresh instantiation. */
export interface SequenceSeen {
  /** create_actor answered a live instance (0: nothing ran). */
  created: boolean;
  /** The ticks made, up to and including the first that did not return. */
  ticks: TickSeen[];
}

/** What a wasm build says of itself: instantiation, ABI version and registration. */
export interface WasmBuildSurvey {
  abiVersion: number | null;
  registerStatus: number | null;
  templates: Template[];
  /** Why the build could not be surveyed in full (instantiation trapped, registration metadata unreadable…). */
  problems: string[];
}

export const isTrap = (t: TickSeen): t is Extract<TickSeen, { trap: string }> => 'trap' in t;

/** One `register_template` call of a native registration and what became of its user_data. */
export interface TemplateCallSeen {
  id: string | null;
  answer: number;
  /** Who freed user_data, and how often (the allocation tracker's view), or why that is unknown. */
  ownership: string;
}

/** A native registration under one mock-host schedule, then the unload (`drop` of each accepted registration). */
export type RegistrationSeen = { status: number; calls: TemplateCallSeen[] } | { cut: string; stage: 'register' | 'drop' };
