// abi.version.*: the handshake export.
import fc from 'fast-check';
import { Violation } from '../harness/abi/errors.ts';
import { hex32 } from '../harness/abi/readable.ts';
import { runFc, runOnce, type PackProperty } from './types.ts';

export const versionStable: PackProperty = {
  id: 'abi.version.stable',
  needs: ['abiVersion'],
  checks: ['abiVersion'],
  check(ctx) {
    const first = ctx.survey.abiVersion;
    // Calls interleaved with registration and instance creation must all agree.
    return runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.array(fc.constantFrom('version', 'register', 'create'), { minLength: 1, maxLength: 12 }), (steps) => {
        const host = ctx.fresh({ register: false });
        const seen: number[] = [];
        for (const step of steps) {
          if (step === 'version') seen.push(host.abiVersion());
          else if (step === 'register') host.register();
          else host.create(0);
        }
        seen.push(host.abiVersion());
        const want = first ?? seen[0]!;
        const odd = seen.findIndex((v) => v !== want);
        if (odd >= 0) {
          throw new Violation(`reflow_pack_abi_version() (call ${odd + 1} on a fresh instance, after ${JSON.stringify(steps)})`, `${seen[odd]} (${hex32(seen[odd]!)}); all answers: ${seen.join(', ')}`, `${want} (${hex32(want)}), the value of the first call`);
        }
      }),
    );
  },
};

export const versionExpected: PackProperty = {
  id: 'abi.version.expected',
  needs: ['abiVersion'],
  checks: [],
  skipReason: (ctx) => (ctx.options.expectAbi === null ? 'no expected ABI version given (use --expect-abi N or --rustc-vv FILE)' : null),
  check(ctx) {
    return runOnce(() => {
      const want = ctx.options.expectAbi!;
      const got = ctx.fresh({ register: false }).abiVersion();
      if (got !== want) throw new Violation('reflow_pack_abi_version()', `${got} (${hex32(got)})`, `${want} (${hex32(want)}), as given; a mismatch means the pack was built by another rustc: rebuild it`);
    }, ctx);
  },
};
