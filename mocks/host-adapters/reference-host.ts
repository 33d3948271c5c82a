// The adapter for packcheck's own reference host (CheckedWasmHost): it must
// pass every host.* property. Also a worked example of an adapter.
import type { HostAdapterFactory, HostTemplate, HostUnderTest, RunResult } from '../../harness/hosts/js/adapter.ts';
import { decodeRegistration, type Template } from '../../harness/abi/registration.ts';
import { CheckedWasmHost } from '../../harness/hosts/wasm/wasm-host.ts';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const referenceHost: HostAdapterFactory = async (): Promise<HostUnderTest> => {
  let host: CheckedWasmHost | null = null;
  let templates: Template[] = [];
  const live = new Set<number>();
  const need = () => {
    if (!host) throw new Error('no pack loaded');
    return host;
  };
  return {
    async load(module) {
      host = CheckedWasmHost.instantiate(module);
      const status = host.register();
      if (status !== 0) throw new Error(`__reflow_pack_register returned ${status}`);
      templates = [];
      for (const reg of host.ledger.registrations) {
        const d = decodeRegistration(reg, 'sdk');
        if ('problem' in d) throw new Error(d.problem);
        if (templates.some((t) => t.name === d.template.name)) throw new Error(`the pack registers the template name ${JSON.stringify(d.template.name)} twice`);
        templates.push(d.template);
      }
      return { templates: templates.map(({ name, inports, outports }): HostTemplate => ({ name, inports, outports })) };
    },
    async create(name) {
      const t = templates.find((x) => x.name === name);
      if (!t) throw new Error(`no template ${JSON.stringify(name)}`);
      const id = need().create(t.factoryId);
      if (id === 0) throw new Error(`__reflow_pack_create_actor(${t.factoryId}) returned 0: no instance`);
      live.add(id);
      return id;
    },
    async run(actor, input): Promise<RunResult> {
      const tick = need().run(actor as number, new TextEncoder().encode(JSON.stringify({ input })));
      if (tick.allocFailed) return { ok: false, error: `the pack could not allocate the ${tick.allocFailed} block` };
      if (!tick.result) return { ok: false, error: tick.outPtr === 0 ? `status ${tick.status} with no result` : 'the result lies outside memory' };
      let text: string;
      try {
        text = STRICT_UTF8.decode(tick.result);
      } catch {
        return { ok: false, error: `status ${tick.status}: the result is not UTF-8` };
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, error: tick.status === 0 ? 'the outputs are not JSON' : `status ${tick.status} (the error is not JSON)` };
      }
      if (tick.status !== 0) return { ok: false, error: String((value as { error?: unknown })?.error ?? `status ${tick.status}`) };
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'the outputs are not a JSON object of ports' };
      return { ok: true, outputs: value as Record<string, unknown> };
    },
    async destroy(actor) {
      need().destroy(actor as number);
      live.delete(actor as number);
    },
    async unload() {
      for (const id of live) host?.destroy(id);
      live.clear();
      host = null;
    },
  };
};

export default referenceHost;
