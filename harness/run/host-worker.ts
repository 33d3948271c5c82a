// Runs host.* properties off the main thread, adapter and probe packs
// together, so an adapter that loops (even synchronously) can be cut off by
// the main thread's watchdog. Before each adapter call it posts what it is
// about to call (and whether that call is a step the running property
// checks), and marks the call guard.
import { parentPort, workerData } from 'node:worker_threads';
import { CallGuard, GUARDED_CALLS } from '../kernel/call-guard.ts';
import { loadAdapter, type ModuleImporter } from '../hosts/js/adapter.ts';
import { HOST_BATTERY, type HostContext } from '../../properties/host.ts';
import { messageOf, withId, type CheckOptions, type Outcome } from '../../properties/types.ts';
import type { HostPropertyId } from '../../properties/catalog.ts';

export interface HostWorkerInit {
  adapterPath: string;
  guardBuffer: SharedArrayBuffer;
  options: CheckOptions;
}
export type ToHostWorker = { type: 'property'; id: HostPropertyId };
export type FromHostWorker =
  | { type: 'call'; detail: string; checked: boolean }
  | { type: 'result'; id: HostPropertyId; outcome: Outcome; durationMs: number }
  | { type: 'import-failed'; error: string };

/** Starts answering the main thread; `importer` imports the adapter module (worker-entry.mjs's). */
export function startHostWorker(importer: ModuleImporter): void {
  const init = workerData as HostWorkerInit;
  const guard = new CallGuard(init.guardBuffer, init.options.timeoutMs);
  const ADAPTER_CALL = GUARDED_CALLS.indexOf('adapter call');
  const factory = loadAdapter(init.adapterPath, importer);
  factory.catch(() => {});

  parentPort!.on('message', async (msg: ToHostWorker) => {
    const t0 = performance.now();
    let outcome: Outcome;
    const property = HOST_BATTERY.find((p) => p.id === msg.id)!;
    let f: Awaited<typeof factory>;
    try {
      f = await factory;
    } catch (e) {
      parentPort!.postMessage({ type: 'import-failed', error: (e as Error).message } satisfies FromHostWorker);
      return;
    }
    try {
      const ctx: HostContext = {
        factory: f,
        options: init.options,
        async call(name, detail, run) {
          parentPort!.postMessage({ type: 'call', detail, checked: property.checks.includes(name) } satisfies FromHostWorker);
          guard.enter(ADAPTER_CALL, 0);
          try {
            return await run();
          } finally {
            guard.leave();
          }
        },
      };
      outcome = await property.check(withId(ctx, property.id));
    } catch (e) {
      outcome = { status: 'errored', runs: 0, message: messageOf(e) };
    }
    parentPort!.postMessage({ type: 'result', id: msg.id, outcome, durationMs: performance.now() - t0 } satisfies FromHostWorker);
  });
}
