// Errors a property can end with. Their messages are what a pack author reads,
// so each names the call, its arguments, what came back and what was expected.

/** A call into the pack trapped (or threw through an import stub). */
export class PackTrap extends Error {
  /**
   * The id whose statement this trap violates, when the caller knows better
   * than the call's default owner (a run on an invalid-UTF-8 payload is
   * `wasm.run.invalid-utf8`'s); see properties/attribution.ts.
   */
  owner?: string;
  constructor(
    readonly call: string,
    readonly cause: unknown,
    /** The guarded call's name (`__reflow_pack_alloc`, `instantiate`, …). */
    readonly callName?: string,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`${call} trapped: ${why}`);
    this.name = 'PackTrap';
  }
}

/** The pack answered, but not as the property requires. */
export class Violation extends Error {
  constructor(
    readonly call: string,
    readonly got: string,
    readonly expected: string,
  ) {
    super(`${call}\n    returned: ${got}\n    expected: ${expected}`);
    this.name = 'Violation';
  }
}

/** A pack call whose arguments the harness could not honour (e.g. a block outside memory). */
export class HarnessRefusal extends Error {
  owner?: string;
  constructor(
    message: string,
    /** The guarded call whose answer could not be honoured. */
    readonly callName?: string,
  ) {
    super(message);
    this.name = 'HarnessRefusal';
  }
}

/**
 * A step the property relies on, but does not check, broke (PROPERTIES.md,
 * Attribution): the module did not instantiate, `register` trapped, `create`
 * answered 0 for a registered factory… The property is not failed by it but
 * blocked by `owner`, the id whose statement the step's defect violates.
 * Thrown by the owner itself, it is that owner's failure.
 */
export class StepBroken extends Error {
  constructor(
    /** The catalog id (or `harness.*`) that states what broke. */
    readonly owner: string,
    /** The step, in words: `instantiate the module`, `create_actor(0)`. */
    readonly step: string,
    /** What happened, as a pack author reads it. */
    readonly detail: string,
    /** What the owner's statement expected, when the step's answer is known (then it reads like a Violation). */
    readonly expected?: string,
  ) {
    super(expected ? `${step}\n    returned: ${detail}\n    expected: ${expected}` : `${step}: ${detail}`);
    this.name = 'StepBroken';
  }
}
