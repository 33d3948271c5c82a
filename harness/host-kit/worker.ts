// Runs host.* properties off the main thread, adapter and probe packs
// together, so an adapter that loops (even synchronously) can be cut off by
// the main thread's watchdog. Before each adapter call it posts what it is
// about to call, and marks the call guard.
import { parentPort, workerData } from 'node:worker_threads';
import { CallGuard, GUARDED_CALLS } from '../call-guard.ts';
import { loadAdapter } from './adapter.ts';
import { HOST_BATTERY, type HostContext } from '../../properties/host.ts';
import { messageOf, type CheckOptions, type Outcome } from '../../properties/types.ts';
import type { HostPropertyId } from '../../properties/catalog.ts';

export interface HostWorkerInit {
  adapterPath: string;
  guardBuffer: SharedArrayBuffer;
  options: CheckOptions;
}
export type ToHostWorker = { type: 'property'; id: HostPropertyId };
export type FromHostWorker = { type: 'call'; detail: string } | { type: 'result'; id: HostPropertyId; outcome: Outcome; durationMs: number };

const init = workerData as HostWorkerInit;
const guard = new CallGuard(init.guardBuffer, init.options.timeoutMs);
const ADAPTER_CALL = GUARDED_CALLS.indexOf('adapter call');
const factory = loadAdapter(init.adapterPath);

parentPort!.on('message', async (msg: ToHostWorker) => {
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    const ctx: HostContext = {
      factory: await factory,
      options: init.options,
      async call(_name, detail, f) {
        parentPort!.postMessage({ type: 'call', detail } satisfies FromHostWorker);
        guard.enter(ADAPTER_CALL, 0);
        try {
          return await f();
        } finally {
          guard.leave();
        }
      },
    };
    outcome = await HOST_BATTERY.find((p) => p.id === msg.id)!.check(ctx);
  } catch (e) {
    outcome = { status: 'errored', runs: 0, message: messageOf(e) };
  }
  parentPort!.postMessage({ type: 'result', id: msg.id, outcome, durationMs: performance.now() - t0 } satisfies FromHostWorker);
});
