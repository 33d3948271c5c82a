// wasm.alloc.* and wasm.free.noop: the pack's allocator as the host sees it.
import fc from 'fast-check';
import { ALLOC_ALIGN, MIB, WASM_PAGE } from '../harness/abi/abi.ts';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import { allocCommands, checkBlocks, commandsArb, modelRun, tickCommands } from './model-commands.ts';
import { ownedBy } from './attribution.ts';
import { runFc, type PackProperty } from './types.ts';
import { measureGrowth } from './measure.ts';

const EDGE_SIZES = [1, 7, 8, 9, 4095, 4096, 65535, 65536, 65537];
const KIB64 = 65536;
const sizeArb = fc.oneof(fc.constantFrom(...EDGE_SIZES), fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 16 * MIB }));

export const allocZero: PackProperty = {
  id: 'wasm.alloc.zero',
  needs: ['alloc'],
  checks: [],
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 4 }), (before) => {
        const host = ctx.fresh();
        for (const n of before) host.allocRaw(n);
        const p = ownedBy('wasm.alloc.zero', () => host.allocRaw(0), '__reflow_pack_alloc');
        if (p !== 0) throw new Violation(`__reflow_pack_alloc(0) (after allocs of ${JSON.stringify(before)})`, String(p), '0');
      }),
    ),
};

export const allocBounds: PackProperty = {
  id: 'wasm.alloc.bounds',
  needs: ['alloc'],
  checks: ['alloc'],
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.record({ first: sizeArb, more: fc.array(sizeArb, { maxLength: 3 }) }), ({ first, more }) => {
        const host = ctx.fresh();
        [first, ...more].forEach((size, i) => {
          const p = host.allocRaw(size);
          const call = `__reflow_pack_alloc(${size})${i === 0 ? ' as the first allocation of a fresh instance' : ` after allocs of ${JSON.stringify([first, ...more].slice(0, i))}`}`;
          if (p === 0) {
            if (i === 0 && size <= KIB64) throw new Violation(call, '0', 'a non-zero pointer: on a fresh instance every size up to 64 KiB succeeds');
            return;
          }
          if (p % ALLOC_ALIGN !== 0) throw new Violation(call, String(p), 'a pointer that is a multiple of 8, or 0');
          if (p + size > host.memBytes) throw new Violation(call, `${p} (the block would end at ${p + size})`, `a block inside memory (${host.memBytes} bytes), or 0`);
        });
      }),
      EDGE_SIZES.map((first) => [{ first, more: [] }]),
    ),
};

export const allocDisjoint: PackProperty = {
  id: 'wasm.alloc.disjoint',
  needs: ['alloc', 'free'],
  checks: [],
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(commandsArb(ctx, allocCommands(), 40), (cmds) => modelRun(ctx, cmds, checkBlocks('overlap')))),
};

export const allocIntegrity: PackProperty = {
  id: 'wasm.alloc.integrity',
  // Its commands create, run and destroy instances too.
  needs: ['alloc', 'free', 'create', 'destroy', 'run'],
  checks: [],
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(commandsArb(ctx, [...allocCommands(), ...tickCommands(ctx)], 30), (cmds) => modelRun(ctx, cmds, checkBlocks('integrity'))),
    ),
};

const TWO_31 = 2 ** 31;
export const allocHuge: PackProperty = {
  id: 'wasm.alloc.huge',
  needs: ['alloc'],
  checks: ['alloc'],
  check(ctx) {
    const maxPages = ctx.survey.shape.memory?.maxPages ?? null;
    const maxBytes = maxPages === null ? null : maxPages * WASM_PAGE;
    const arbs = [fc.constantFrom(TWO_31, 2 ** 32 - 1, TWO_31 + 1), fc.integer({ min: TWO_31, max: 2 ** 32 - 1 }), fc.integer({ min: TWO_31 - 8, max: TWO_31 - 1 })];
    if (maxBytes !== null && maxBytes < TWO_31 - 8) arbs.push(fc.integer({ min: maxBytes + 1, max: TWO_31 - 9 }));
    return runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.oneof(...arbs), (size) => {
        const host = ctx.fresh();
        const p = host.allocRaw(size);
        const call = `__reflow_pack_alloc(${size}) (${size | 0} as i32)`;
        if (size >= TWO_31) {
          if (p !== 0) throw new Violation(call, String(p), '0: sizes of 2^31 and more always fail');
        } else if (maxBytes !== null && size > maxBytes) {
          if (p !== 0) throw new Violation(call, String(p), `0: the module declares a memory maximum of ${maxPages} pages (${maxBytes} bytes)`);
        } else if (p !== 0 && (p % ALLOC_ALIGN !== 0 || p + size > host.memBytes)) {
          throw new Violation(call, String(p), `0, or an 8-aligned block inside memory (${host.memBytes} bytes)`);
        }
      }),
    );
  },
};

export const freeNoop: PackProperty = {
  id: 'wasm.free.noop',
  needs: ['alloc', 'free'],
  checks: ['free'],
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(
        fc.oneof(
          fc.record({ form: fc.constant('ptr 0' as const), n: fc.oneof(fc.constantFrom(0, 1, 8, 0xffffffff), fc.nat({ max: 0xffffffff })) }),
          fc.record({ form: fc.constant('size 0 of a live block' as const), n: fc.integer({ min: 1, max: 65536 }) }),
          fc.record({ form: fc.constant('size 0 of any pointer' as const), n: fc.nat({ max: 0xffffffff }) }),
        ),
        ({ form, n }) => {
          const host = ctx.fresh();
          if (form === 'ptr 0') host.freeRaw(0, n);
          else if (form === 'size 0 of any pointer') host.freeRaw(n, 0);
          else {
            const b = host.alloc(n, 'test');
            if (b) host.freeRaw(b.ptr, 0);
          }
        },
      ),
    ),
};

/** The fixed mix of sizes one cycle allocates and frees again. */
const CYCLE_SIZES = [1, 7, 8, 24, 100, 1000, 4096, 65536, 3, 513];

export const allocNoLeak: PackProperty = {
  id: 'wasm.alloc.no-leak',
  needs: ['alloc', 'free'],
  checks: [],
  check: (ctx) =>
    measureGrowth(ctx, `a cycle allocates sizes ${JSON.stringify(CYCLE_SIZES)} and frees every block with its size`, (host) => {
      const ptrs: number[] = [];
      let end = 0;
      return () => {
        for (let i = 0; i < CYCLE_SIZES.length; i++) {
          const n = CYCLE_SIZES[i]!;
          const p = host.allocRaw(n);
          // Overlapping blocks make any growth figure meaningless: that is wasm.alloc.disjoint's failure.
          for (let j = 0; j < i; j++) {
            const q = ptrs[j]!;
            if (p !== 0 && q !== 0 && p < q + CYCLE_SIZES[j]! && q < p + n)
              throw new StepBroken('wasm.alloc.disjoint', `__reflow_pack_alloc(${n})`, `${p}: the block [${p}, ${p + n}) overlaps [${q}, ${q + CYCLE_SIZES[j]!}), allocated earlier in the same cycle and still held`, 'a block overlapping no held block');
          }
          ptrs.push(p);
          if (p + n > end) end = p + n;
        }
        for (let i = 0; i < CYCLE_SIZES.length; i++) host.freeRaw(ptrs[i]!, CYCLE_SIZES[i]!);
        ptrs.length = 0;
        return end;
      };
    }),
};
