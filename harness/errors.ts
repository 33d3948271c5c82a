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
