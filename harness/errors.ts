// Errors a property can end with. Their messages are what a pack author reads,
// so each names the call, its arguments, what came back and what was expected.

/** A call into the pack trapped (or threw through an import stub). */
export class PackTrap extends Error {
  constructor(
    readonly call: string,
    readonly cause: unknown,
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
  constructor(message: string) {
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
  ) {
    super(`${step}: ${detail}`);
    this.name = 'StepBroken';
  }
}
