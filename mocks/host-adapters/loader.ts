// A small JS pack loader written from the upstream browser loader's
// behaviour as ABI.md describes it, with every upstream pitfall behind a
// flag: correct with no flags, upstream-like with UPSTREAM_PITFALLS, and one
// pitfall at a time for the project's broken adapters.
import type { HostAdapterFactory, HostUnderTest, RunResult } from '../../harness/hosts/js/adapter.ts';

export interface LoaderFlags {
  /** create_actor once per template while loading; every create shares it. */
  sharedInstances?: boolean;
  /** destroy and unload do nothing. */
  neverDestroy?: boolean;
  /** Frees a result only when ptr && len, with len (a zero-length result leaks its byte). */
  freeOnlyPtrAndLen?: boolean;
  /** Returns an error before cleanup when one of the two blocks could not be allocated. */
  leakOnAllocFailure?: boolean;
  /** Keeps one Uint8Array over memory from load on (stale after growth). */
  cacheMemoryView?: boolean;
  /** Passes out_len_ptr just past the 8-byte slot block. */
  slotOutsideBlock?: boolean;
  /** Calls __reflow_pack_register twice. */
  registerTwice?: boolean;
  /** Reads the result without a bounds check. */
  trustOutSlots?: boolean;
  /** Hands out instance id 0 as an actor. */
  ignoreCreateZero?: boolean;
  /** Lets JSON.parse of an error result throw. */
  throwOnNonJsonError?: boolean;
  /** Encodes the payload one byte per UTF-16 unit instead of UTF-8. */
  latin1Payload?: boolean;
  /** Keeps templates in a Map by name: a duplicate silently shadows the first. */
  shadowDuplicates?: boolean;
  /** `({ instance } = await WebAssembly.instantiate(module, imports))` with a Module: instance is undefined. */
  destructureInstantiate?: boolean;
  /** Parses registration metadata with a bare JSON.parse of a lenient decode, and lists `name` whatever it is. */
  bareMetadata?: boolean;
  /** Parses a status-0 result with a bare JSON.parse: a result that is not JSON throws out of run, any JSON value is the outputs. */
  bareOutputs?: boolean;
  /** Keeps alloc results and the metadata pointer as signed i32 (negative above 2 GiB; a negative subarray start reads from the end). */
  signedPointers?: boolean;
  /** Lists templates without their ports. */
  dropPorts?: boolean;
}

/**
 * Upstream's browser loader as ABI.md describes it (its instantiate pitfall
 * aside): it rebuilds memory views after every call and rejects duplicate
 * names, so neither of those flags is set.
 */
export const UPSTREAM_PITFALLS: LoaderFlags = {
  sharedInstances: true,
  neverDestroy: true,
  freeOnlyPtrAndLen: true,
  leakOnAllocFailure: true,
  trustOutSlots: true,
  bareMetadata: true,
  bareOutputs: true,
  signedPointers: true,
};

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The template a registration's metadata describes, or throws why it is unusable. */
function parseMetadata(bytes: Uint8Array, factoryId: number): Tpl {
  const m = JSON.parse(STRICT_UTF8.decode(bytes)) as unknown;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error(`registration ${factoryId}: the metadata is not a JSON object`);
  const { name, inports, outports } = m as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new Error(`registration ${factoryId}: the metadata has no non-empty string "name"`);
  const strings = (x: unknown) => (Array.isArray(x) && x.every((p) => typeof p === 'string') ? (x as string[]) : []);
  return { name, inports: strings(inports), outports: strings(outports), factoryId };
}

type Fn = (...a: number[]) => number;
interface Exports {
  memory: WebAssembly.Memory;
  __reflow_pack_register: Fn;
  __reflow_pack_alloc: Fn;
  __reflow_pack_free: Fn;
  __reflow_pack_create_actor: Fn;
  __reflow_pack_destroy_actor: Fn;
  __reflow_pack_actor_run: Fn;
}
interface Tpl {
  name: string;
  inports: string[];
  outports: string[];
  factoryId: number;
}

export function makeLoader(flags: LoaderFlags = {}): HostAdapterFactory {
  return async (): Promise<HostUnderTest> => {
    let ex: Exports | null = null;
    let cached = new Uint8Array(0);
    let templates: Tpl[] = [];
    const shared = new Map<string, number>();
    const live = new Set<number>();
    const need = () => {
      if (!ex) throw new Error('no pack loaded');
      return ex;
    };
    const mem = () => (flags.cacheMemoryView ? cached : new Uint8Array(need().memory.buffer));
    const ptr = (p: number) => (flags.signedPointers ? p | 0 : p >>> 0);
    const free = (p: number, n: number) => need().__reflow_pack_free(p, n);
    return {
      async load(module) {
        const regs: { bytes: Uint8Array; factoryId: number }[] = [];
        const imports = {
          env: { __reflow_pack_register_template: (p: number, n: number, f: number) => regs.push({ bytes: new Uint8Array(need().memory.buffer).slice(ptr(p), ptr(p) + (n >>> 0)), factoryId: f >>> 0 }) },
        };
        let instance: WebAssembly.Instance;
        if (flags.destructureInstantiate) ({ instance } = (await WebAssembly.instantiate(module, imports)) as unknown as { instance: WebAssembly.Instance });
        else instance = await WebAssembly.instantiate(module, imports);
        ex = instance.exports as unknown as Exports;
        cached = new Uint8Array(ex.memory.buffer);
        ex.__reflow_pack_register();
        if (flags.registerTwice) {
          // Registers again but keeps the first round's templates only.
          const first = regs.length;
          ex.__reflow_pack_register();
          regs.length = first;
        }
        templates = regs.map((r) => {
          if (!flags.bareMetadata) return parseMetadata(r.bytes, r.factoryId);
          const m = JSON.parse(new TextDecoder().decode(r.bytes)) as Omit<Tpl, 'factoryId'>;
          return { name: m.name, inports: m.inports, outports: m.outports, factoryId: r.factoryId };
        });
        if (flags.shadowDuplicates) templates = [...new Map(templates.map((t) => [t.name, t])).values()];
        else if (new Set(templates.map((t) => t.name)).size !== templates.length) throw new Error('the pack registers a template name twice');
        if (flags.sharedInstances) {
          for (const t of templates) {
            const id = ex.__reflow_pack_create_actor(t.factoryId) >>> 0;
            if (id === 0 && !flags.ignoreCreateZero) throw new Error(`create_actor(${t.factoryId}) returned 0`);
            shared.set(t.name, id);
          }
        }
        return { templates: templates.map(({ name, inports, outports }) => (flags.dropPorts ? { name, inports: [], outports: [] } : { name, inports, outports })) };
      },
      async create(name) {
        const t = templates.find((x) => x.name === name);
        if (!t) throw new Error(`no template ${JSON.stringify(name)}`);
        if (flags.sharedInstances) return shared.get(name)!;
        const id = need().__reflow_pack_create_actor(t.factoryId) >>> 0;
        if (id === 0 && !flags.ignoreCreateZero) throw new Error(`create_actor(${t.factoryId}) returned 0`);
        live.add(id);
        return id;
      },
      async run(actor, input): Promise<RunResult> {
        const e = need();
        const text = JSON.stringify({ input });
        const bytes = flags.latin1Payload ? Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff) : new TextEncoder().encode(text);
        const size = bytes.length || 1;
        const p = ptr(e.__reflow_pack_alloc(size));
        const s = p === 0 && flags.leakOnAllocFailure ? 0 : ptr(e.__reflow_pack_alloc(8));
        if (p === 0 || s === 0) {
          if (!flags.leakOnAllocFailure) {
            if (p) free(p, size);
            if (s) free(s, 8);
          }
          return { ok: false, error: 'the pack is out of memory' };
        }
        mem().set(bytes, p);
        const lenSlot = flags.slotOutsideBlock ? s + 8 : s + 4;
        const status = e.__reflow_pack_actor_run(actor as number, p, bytes.length, s, lenSlot) | 0;
        const m = mem();
        const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
        const outPtr = dv.getUint32(s, true);
        const outLen = dv.getUint32(lenSlot, true);
        const span = Math.max(outLen, 1);
        const inBounds = outPtr !== 0 && outPtr + span <= m.length;
        let result: Uint8Array | null = null;
        if (flags.trustOutSlots) result = new Uint8Array(m.buffer, outPtr, outLen).slice();
        else if (inBounds) result = m.slice(outPtr, outPtr + outLen);
        if (flags.freeOnlyPtrAndLen) {
          if (outPtr && outLen) free(outPtr, outLen);
        } else if (inBounds) free(outPtr, span);
        free(p, size);
        free(s, 8);
        if (!result) return { ok: false, error: 'the result lies outside memory' };
        const out = new TextDecoder().decode(result);
        if (status !== 0) {
          if (flags.throwOnNonJsonError) return { ok: false, error: String((JSON.parse(out) as { error?: unknown }).error) };
          try {
            return { ok: false, error: String((JSON.parse(out) as { error?: unknown }).error) };
          } catch {
            return { ok: false, error: `actor failed with status ${status}` };
          }
        }
        if (flags.bareOutputs) return { ok: true, outputs: JSON.parse(out) as Record<string, unknown> };
        let outputs: unknown;
        try {
          outputs = JSON.parse(out);
        } catch {
          return { ok: false, error: 'the outputs are not JSON' };
        }
        if (outputs === null || typeof outputs !== 'object' || Array.isArray(outputs)) return { ok: false, error: 'the outputs are not a JSON object of ports' };
        return { ok: true, outputs: outputs as Record<string, unknown> };
      },
      async destroy(actor) {
        if (flags.neverDestroy || flags.sharedInstances) return;
        need().__reflow_pack_destroy_actor(actor as number);
        live.delete(actor as number);
      },
      async unload() {
        if (flags.neverDestroy || !ex) return;
        for (const id of [...live, ...shared.values()]) ex.__reflow_pack_destroy_actor(id);
        live.clear();
        shared.clear();
      },
    };
  };
}
