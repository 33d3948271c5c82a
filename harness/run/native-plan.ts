// Attribution for native packs (PROPERTIES.md, "Attribution"): the steps a
// vtable property relies on, which id owns each step's failure, and which
// kinds of pack call are a property's own checked step (a call the harness
// cuts off there fails the property; anywhere else it only blocks it).
// Shared by the parent (runner.ts) and the child (properties/vtable.ts);
// plain data, so the parent loads no native code.
import type { VtablePropertyId } from '../../properties/catalog.ts';

/** The kinds of pack call the child reports before making one. */
export type CallKind = 'dlopen' | 'version' | 'register-null' | 'register-all' | 'register-reject' | 'factory' | 'drop' | 'start';

/**
 * The steps the survey takes, in order, each in the process that will run
 * the properties: load the shared object, look both symbols up, the first
 * `reflow_pack_abi_version()`, the accept-all baseline registration, and the
 * `drop` of every baseline registration.
 */
export type NativeStep = 'dlopen' | 'symbols' | 'version' | 'register' | 'drop';
export const SURVEY_STEPS: readonly NativeStep[] = ['dlopen', 'symbols', 'version', 'register', 'drop'];

/** The id whose statement a broken step violates: it carries the failure. */
export const STEP_OWNER: Record<NativeStep, VtablePropertyId> = {
  dlopen: 'vtable.load.dlopen',
  symbols: 'vtable.shape.symbols',
  version: 'abi.version.stable',
  register: 'vtable.register.status-ok',
  drop: 'vtable.drop.frees',
};

/** The step in words, as a blocked result names it. */
export const STEP_TEXT: Record<NativeStep, string> = {
  dlopen: 'dlopen the shared object',
  symbols: 'look up reflow_pack_abi_version and the register entrypoint',
  version: 'the first reflow_pack_abi_version()',
  register: 'the baseline registration with an accept-all host',
  drop: 'drop(user_data) of the baseline registrations',
};

/** The kind of pack call each survey step makes (null: no pack call). */
export const STEP_CALL: Record<NativeStep, CallKind | null> = { dlopen: 'dlopen', symbols: null, version: 'version', register: 'register-all', drop: 'drop' };

interface Plan {
  /** Survey steps it cannot be evaluated without (dlopen and symbols: every one). */
  relies: NativeStep[];
  /** Kinds of call that are its own checked step. */
  checks: CallKind[];
}

const LOADED: NativeStep[] = ['dlopen', 'symbols'];
const REGISTERED: NativeStep[] = [...LOADED, 'register'];

/**
 * What each vtable id relies on and checks. A property whose unload would
 * call a `drop` the survey saw break skips the unload (a host may keep its
 * registrations): only vtable.drop.frees needs drop.
 */
export const PLAN: Record<VtablePropertyId, Plan> = {
  'vtable.load.dlopen': { relies: [], checks: ['dlopen'] },
  // The registration between calls is left out when the baseline registration broke.
  'abi.version.stable': { relies: LOADED, checks: ['version'] },
  'abi.version.expected': { relies: [...LOADED, 'version'], checks: ['version'] },
  'vtable.shape.symbols': { relies: ['dlopen'], checks: [] },
  'vtable.register.null-host': { relies: LOADED, checks: ['register-null'] },
  'vtable.register.host-data': { relies: REGISTERED, checks: [] },
  'vtable.register.args': { relies: REGISTERED, checks: [] },
  'vtable.register.status-ok': { relies: LOADED, checks: ['register-all'] },
  'vtable.register.sticky-status': { relies: REGISTERED, checks: ['register-reject'] },
  'vtable.register.continues': { relies: REGISTERED, checks: [] },
  'vtable.register.reclaim': { relies: REGISTERED, checks: [] },
  'vtable.register.keep-accepted': { relies: REGISTERED, checks: [] },
  'vtable.register.unique-ids': { relies: REGISTERED, checks: [] },
  'vtable.register.deterministic': { relies: REGISTERED, checks: [] },
  'vtable.factory.handle': { relies: REGISTERED, checks: ['factory'] },
  'vtable.drop.frees': { relies: REGISTERED, checks: ['drop'] },
};

/** Why abi.version.expected does not apply. */
export const NO_EXPECTED_ABI = 'no expected ABI version given (use --expect-abi N or --rustc-vv FILE)';
/** Why a tracker-based id does not apply, given why the tracker is missing. */
export const noTracker = (missing: string) => `no allocation tracker: ${missing}`;

/** The tracker-based ids (skipped, with the reason, where the tracker is missing). */
export const TRACKER_IDS: readonly VtablePropertyId[] = ['vtable.register.reclaim', 'vtable.register.keep-accepted', 'vtable.drop.frees'];
