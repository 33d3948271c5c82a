// The worker side of a wasm diff: it holds one build and answers a survey
// (ABI version, registrations) and generated tick sequences, each on a fresh
// instantiation through the checked host, so one input cannot leak state into
// the next and both builds see the same history. The main thread watches the
// shared call guard: a call that hangs gets this worker terminated.
import { parentPort, workerData } from 'node:worker_threads';
import { HarnessRefusal, PackTrap } from '../../abi/errors.ts';
import { decodeRegistration, type Profile } from '../../abi/registration.ts';
import { CallGuard } from '../../kernel/call-guard.ts';
import { CheckedWasmHost } from '../../hosts/wasm/wasm-host.ts';
import type { SequenceSeen, TickSeen, WasmBuildSurvey } from './observation.ts';

export interface ObserverInit {
  module: WebAssembly.Module;
  guardBuffer: SharedArrayBuffer;
  timeoutMs: number;
  profile: Profile;
}
/** A sequence is asked tick by tick, so a tick that hangs is known as that tick. */
export type ToObserver = { type: 'survey' } | { type: 'begin'; template: string } | { type: 'tick'; payload: Uint8Array };
export type FromObserver = { type: 'survey'; survey: WasmBuildSurvey } | { type: 'begun'; seen: SequenceSeen } | { type: 'tick'; seen: TickSeen };

const init = workerData as ObserverInit;
const guard = new CallGuard(init.guardBuffer, init.timeoutMs);

/** A call that did not return normally: compared on what went wrong, not on addresses that differ between builds. */
function trapOf(e: unknown): Extract<TickSeen, { trap: string }> {
  if (e instanceof PackTrap) {
    const why = e.cause instanceof Error ? e.cause.message : String(e.cause);
    return { trap: `${e.callName ?? 'a pack call'} trapped: ${why}`, key: `${e.callName}:${why}`, detail: e.message };
  }
  if (e instanceof HarnessRefusal) {
    const first = e.message.split('\n')[0]!;
    return { trap: first, key: `refused:${first.replace(/\d+/g, 'N')}`, detail: e.message };
  }
  throw e;
}

/** A fresh instance with its registrations decoded (templates by name: factory ids may differ between builds). */
function fresh(): { host: CheckedWasmHost; factories: Map<string, number> } {
  const host = CheckedWasmHost.instantiate(init.module, { guard, watchBlocks: false });
  host.register();
  const factories = new Map<string, number>();
  for (const reg of host.ledger.registrations) {
    const d = decodeRegistration(reg, init.profile);
    if ('template' in d && !factories.has(d.template.name)) factories.set(d.template.name, d.template.factoryId);
  }
  return { host, factories };
}

function survey(): WasmBuildSurvey {
  const s: WasmBuildSurvey = { abiVersion: null, registerStatus: null, templates: [], problems: [] };
  let host: CheckedWasmHost;
  try {
    host = CheckedWasmHost.instantiate(init.module, { guard, watchBlocks: false });
  } catch (e) {
    s.problems.push(`it does not instantiate: ${(e as Error).message}`);
    return s;
  }
  try {
    s.abiVersion = host.abiVersion();
  } catch (e) {
    s.problems.push(`reflow_pack_abi_version: ${(e as Error).message}`);
  }
  try {
    s.registerStatus = host.register();
  } catch (e) {
    s.problems.push(`__reflow_pack_register: ${(e as Error).message}`);
  }
  for (const reg of host.ledger.registrations) {
    const d = decodeRegistration(reg, init.profile);
    if ('template' in d) s.templates.push(d.template);
    else s.problems.push(d.problem);
  }
  return s;
}

/** The instance of the sequence in progress. */
let current: { host: CheckedWasmHost; id: number } | null = null;

/** A fresh instantiation and one instance of `template`: created, or why not (then no tick runs). */
function begin(template: string): SequenceSeen {
  current = null;
  const seen: SequenceSeen = { created: false, ticks: [] };
  try {
    const { host, factories } = fresh();
    const factory = factories.get(template);
    if (factory === undefined) return seen;
    const id = host.create(factory);
    if (id !== 0) current = { host, id };
  } catch (e) {
    seen.ticks.push(trapOf(e));
  }
  seen.created = current !== null;
  return seen;
}

function tick(payload: Uint8Array): TickSeen {
  const c = current;
  if (!c) return { trap: 'no instance', key: 'no-instance', detail: 'no instance was created for this sequence' };
  try {
    const t = c.host.run(c.id, payload);
    if (t.allocFailed) {
      current = null;
      return { trap: `__reflow_pack_alloc answered 0 for the ${t.allocFailed} block`, key: `alloc-failed:${t.allocFailed}`, detail: `the host could not place the ${t.allocFailed} block: __reflow_pack_alloc answered 0` };
    }
    return { status: t.status, result: t.result };
  } catch (e) {
    current = null;
    return trapOf(e);
  }
}

parentPort!.on('message', (msg: ToObserver) => {
  if (msg.type === 'survey') parentPort!.postMessage({ type: 'survey', survey: survey() } satisfies FromObserver);
  else if (msg.type === 'begin') parentPort!.postMessage({ type: 'begun', seen: begin(msg.template) } satisfies FromObserver);
  else parentPort!.postMessage({ type: 'tick', seen: tick(msg.payload) } satisfies FromObserver);
});
