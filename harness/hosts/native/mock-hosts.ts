// Mock hosts of the vtable ABI: accept-all, failure-injecting (answers a
// chosen subset of calls with chosen non-zero codes), all recording every
// call into a Ledger under a random non-zero host_data tag. The schedule is a
// fast-check arbitrary, so a failure shrinks to the smallest schedule, such
// as "reject call #1 with -3". Usable from your own tests with any NativePack.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { PackRegisterStatus } from '../../abi/abi.ts';
import { VtableLedger, type VtableRegistration } from './vtable-ledger.ts';
import type { NativePack, TemplateCall } from './vtable-host.ts';

/** Call index (0-based, in call order) → the non-zero code to answer it with. */
export type Schedule = ReadonlyMap<number, number>;

export const NAMED_CODES = [PackRegisterStatus.NullArg, PackRegisterStatus.BadUtf8, PackRegisterStatus.Duplicate, PackRegisterStatus.Internal];

/** Rejections of up to `maxCalls` call indexes with the named codes and arbitrary non-zero i32 values. */
export function scheduleArb(maxCalls = 8): fc.Arbitrary<Schedule> {
  const code = fc.oneof(fc.constantFrom(...NAMED_CODES), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((c) => c !== 0));
  return fc.uniqueArray(fc.record({ call: fc.nat({ max: maxCalls - 1 }), code }), { selector: (e) => e.call, maxLength: maxCalls }).map((es) => new Map(es.map((e) => [e.call, e.code])));
}

export function describeSchedule(s: Schedule): string {
  return s.size === 0 ? 'accept every call' : [...s].sort((a, b) => a[0] - b[0]).map(([i, c]) => `reject call #${i + 1} with ${c}`).join(', ');
}

/** Looks up which allocation a pointer is (the allocation tracker), if there is one. */
export type SeqOf = (p: bigint) => bigint;

export class MockVtableHost {
  readonly ledger = new VtableLedger();
  /**
   * @param hostData the non-zero tag the pack must pass back unchanged (random
   *   per load by default; properties draw it from fast-check so runs replay)
   */
  constructor(
    readonly schedule: Schedule = new Map(),
    private readonly seqOf: SeqOf = () => 0n,
    readonly hostData: bigint = randomTag(),
  ) {}

  get calls(): readonly VtableRegistration[] {
    return this.ledger.registrations;
  }

  /** The `register_template` implementation: record, then answer per schedule. */
  readonly handle = (call: TemplateCall): number => {
    const answer = this.schedule.get(call.index) ?? 0;
    this.ledger.registrations.push({ ...call, answer, userDataSeq: call.userData === 0n ? 0n : this.seqOf(call.userData), dropped: false });
    return answer;
  };

  register(pack: NativePack): number {
    return pack.register(this.hostData, this.handle);
  }

  accepted(): VtableRegistration[] {
    return this.calls.filter((c) => c.answer === 0);
  }

  /** Unload: `drop` exactly once per accepted registration (never for a rejected one). */
  unload(pack: NativePack): void {
    for (const c of this.accepted()) {
      if (c.dropped || c.drop === 0n) continue;
      c.dropped = true;
      pack.drop(c);
    }
  }
}

function randomTag(): bigint {
  let tag = 0n;
  while (tag === 0n) tag = BigInt(randomBytes(6).readUIntBE(0, 6)) << 4n;
  return tag;
}

/** host_data tags: non-zero, 16-aligned like a real pointer. */
export const hostTagArb = fc.bigInt({ min: 1n, max: 2n ** 44n }).map((t) => t << 4n);

export const acceptAllHost = (seqOf?: SeqOf, hostData?: bigint) => new MockVtableHost(new Map(), seqOf, hostData);
export const failureInjectingHost = (schedule: Schedule, seqOf?: SeqOf, hostData?: bigint) => new MockVtableHost(schedule, seqOf, hostData);
