// The differences two builds show without being run on inputs: exports and
// imports with their signatures, exported ELF symbols, the ABI version, the
// templates they register and their ports.
import type { Template } from '../../abi/registration.ts';
import type { WasmShape } from '../../hosts/wasm/wasm-shape.ts';
import type { ElfSymbol } from './elf-symbols.ts';
import type { Difference, DiffKind } from './model.ts';

type Static = Omit<Difference, 'replay'>;

const signature = (e: { kind: string; params?: string[]; results?: string[] }) => (e.kind === 'function' ? `function (${(e.params ?? []).join(', ')}) -> (${(e.results ?? []).join(', ')})` : e.kind);

/** One difference per name whose presence or description differs, in name order. */
function byName(kind: DiffKind, a: Map<string, string>, b: Map<string, string>): Static[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names.filter((n) => a.get(n) !== b.get(n)).map((name) => ({ kind, name, old: a.get(name) ?? null, new: b.get(name) ?? null }));
}

export function shapeDifferences(a: WasmShape, b: WasmShape): Static[] {
  const exports = (s: WasmShape) => new Map(s.exports.map((e) => [e.name, signature(e)]));
  const imports = (s: WasmShape) => new Map(s.imports.map((i) => [`${i.module}.${i.name}`, signature(i)]));
  return [...byName('exports', exports(a), exports(b)), ...byName('imports', imports(a), imports(b))];
}

export function symbolDifferences(a: ElfSymbol[], b: ElfSymbol[]): Static[] {
  const map = (s: ElfSymbol[]) => new Map(s.map((x) => [x.name, x.kind]));
  return byName('symbols', map(a), map(b));
}

export function abiVersionDifference(a: number | null, b: number | null): Static[] {
  return a === b ? [] : [{ kind: 'abi-version', old: a, new: b }];
}

const ports = (t: Template) => ({ inports: [...t.inports].sort(), outports: [...t.outports].sort() });

/** Templates registered by one build only, and templates of both whose ports differ (as sets: order means nothing to a runtime). */
export function templateDifferences(a: Template[], b: Template[]): Static[] {
  const ma = new Map(a.map((t) => [t.name, t]));
  const mb = new Map(b.map((t) => [t.name, t]));
  const out: Static[] = [];
  for (const name of [...new Set([...ma.keys(), ...mb.keys()])].sort()) {
    const ta = ma.get(name);
    const tb = mb.get(name);
    if (!ta || !tb) out.push({ kind: 'templates', template: name, old: ta ? ports(ta) : null, new: tb ? ports(tb) : null });
    else if (JSON.stringify(ports(ta)) !== JSON.stringify(ports(tb))) out.push({ kind: 'ports', template: name, old: ports(ta), new: ports(tb) });
  }
  return out;
}
