// The two no-leak properties: one deterministic measurement each, not a
// fast-check property. Warm up, take memory size and the highest block end,
// run many more identical cycles, and compare.
import { WASM_PAGE } from '../harness/abi/abi.ts';
import { Violation } from '../harness/abi/errors.ts';
import type { CheckedWasmHost } from '../harness/hosts/wasm/wasm-host.ts';
import type { Sample } from '../harness/hosts/wasm/ledger.ts';
import { runOnce, type Outcome, type PropertyContext } from './types.ts';
import { MEASURED_CYCLES, WARMUP_CYCLES } from './budgets.ts';

export { MEASURED_CYCLES, WARMUP_CYCLES };

/** `makeCycle` returns one cycle; each call answers the highest block end it saw. */
export function measureGrowth(ctx: PropertyContext, what: string, makeCycle: (host: CheckedWasmHost) => () => number): Outcome {
  let figures = '';
  let timeline: Sample[] = [];
  const outcome = runOnce(() => {
    const host = ctx.fresh({ watchBlocks: false });
    host.ledger.sampleEvery = 16;
    timeline = host.ledger.timeline;
    const cycle = makeCycle(host);
    let end = 0;
    for (let i = 0; i < WARMUP_CYCLES; i++) end = Math.max(end, cycle());
    const mem0 = host.memBytes;
    const end0 = end;
    for (let i = 0; i < MEASURED_CYCLES; i++) end = Math.max(end, cycle());
    const memGrowth = host.memBytes - mem0;
    const endGrowth = end - end0;
    figures = `after ${WARMUP_CYCLES} warm-up cycles: memory ${mem0} bytes, highest block end ${end0}; after ${MEASURED_CYCLES} more: memory ${host.memBytes} (+${memGrowth}), highest block end ${end} (+${endGrowth})`;
    if (memGrowth > WASM_PAGE || endGrowth > WASM_PAGE) {
      const perCycle = (Math.max(memGrowth, endGrowth) / MEASURED_CYCLES).toFixed(1);
      throw new Violation(`${MEASURED_CYCLES} cycles (${what})`, `${figures}: about ${perCycle} bytes per cycle`, `growth of at most one 64 KiB page (${WASM_PAGE} bytes) in both figures`);
    }
  }, ctx);
  return { ...(outcome.status === 'passed' ? { ...outcome, message: figures } : outcome), timeline };
}
