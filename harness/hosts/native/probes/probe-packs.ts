// The probe packs of native host conformance and the scenarios they make up
// (PROPERTIES.md, "Native host conformance"). Each probe is probe-pack.c with
// a few defines in front; each scenario is one adapter process loading its
// probes in order.
import { readFileSync } from 'node:fs';
import { ccBuild } from './cc-cache.ts';

const TEMPLATE = readFileSync(new URL('./probe-pack.c', import.meta.url), 'utf8');

/** One registration a probe makes: how it is labelled on the side channel, and what it sends. */
export interface ProbeRegistration {
  label: string;
  /** The template id's bytes, or null to send a null pointer. */
  id: Uint8Array | null;
  factory: 'handle' | 'null-handle' | 'null-pointer';
  drop: 'probe' | 'null-pointer';
}

export interface ProbeSpec {
  /** The probe's name on the side channel. */
  name: string;
  /** Its file name (two probes share one in the identity scenario). */
  fileName: string;
  /** Report the host's ABI version, or another one. */
  abi: 'host' | 'other';
  registrations: ProbeRegistration[];
  /** What register returns whatever the host answered (else the first non-zero answer, as the SDK does). */
  returns?: number;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const ok = (label: string, id: string, extra: Partial<ProbeRegistration> = {}): ProbeRegistration => ({ label, id: utf8(id), factory: 'handle', drop: 'probe', ...extra });
const probe = (name: string, registrations: ProbeRegistration[], extra: Partial<ProbeSpec> = {}): ProbeSpec => ({ name, fileName: `libnhost_${name.replace(/-/g, '_')}.so`, abi: 'host', registrations, ...extra });

export const SCENARIO_NAMES = ['conforming', 'version', 'null-id', 'null-factory', 'bad-utf8', 'duplicate', 'null-drop', 'rollback', 'factory-null', 'identity'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The probes each scenario's adapter process loads, in order. */
export const SCENARIOS: Record<ScenarioName, ProbeSpec[]> = {
  conforming: [probe('conforming', [ok('alpha', 'nhost.conforming.alpha'), ok('beta', 'nhost.conforming.beta')])],
  version: [probe('version', [ok('only', 'nhost.version.only')], { abi: 'other' })],
  'null-id': [probe('null-id', [{ ...ok('null id', ''), id: null }])],
  'null-factory': [probe('null-factory', [ok('null factory', 'nhost.null-factory.x', { factory: 'null-pointer' })])],
  'bad-utf8': [probe('bad-utf8', [{ ...ok('id not UTF-8', ''), id: new Uint8Array([...utf8('nhost.bad-utf8.'), 0xff, 0xfe]) }])],
  duplicate: [probe('duplicate', [ok('first', 'nhost.duplicate.x'), ok('repeated id', 'nhost.duplicate.x')])],
  'null-drop': [probe('null-drop', [ok('null drop', 'nhost.null-drop.x', { drop: 'null-pointer' })])],
  rollback: [
    probe('rollback-fail', [ok('one', 'nhost.rollback.one'), ok('two', 'nhost.rollback.two')], { returns: -99 }),
    probe('rollback-retry', [ok('one', 'nhost.rollback.one'), ok('two', 'nhost.rollback.two')]),
  ],
  'factory-null': [probe('factory-null', [ok('factory returns NULL', 'nhost.factory-null.x', { factory: 'null-handle' })])],
  identity: [
    probe('same-a', [ok('a', 'nhost.same.a')], { fileName: 'libnhost_same.so' }),
    probe('same-b', [ok('b', 'nhost.same.b')], { fileName: 'libnhost_same.so' }),
  ],
};

/** A C string literal of any bytes (octal escapes: they never swallow the next character). */
function cString(bytes: Uint8Array): string {
  return `"${[...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}"`;
}

/** The version a probe built to differ reports: the host's with its lowest bit flipped. */
export const otherAbi = (hostAbi: number) => (hostAbi ^ 1) >>> 0;

/** The C text of one probe: its defines, then the template. */
export function probeSource(p: ProbeSpec, hostAbi: number): string {
  const FACTORY = { handle: 'probe_factory', 'null-handle': 'null_factory', 'null-pointer': 'NULL' } as const;
  const regs = p.registrations.map((r) => `REG(${cString(utf8(r.label))}, ${r.id ? cString(r.id) : 'NULL'}, ${FACTORY[r.factory]}, ${r.drop === 'probe' ? 'probe_drop' : 'NULL'})`);
  return [
    `#define PROBE_NAME ${cString(utf8(p.name))}`,
    `#define PROBE_ABI ${p.abi === 'host' ? hostAbi >>> 0 : otherAbi(hostAbi)}u`,
    `#define PROBE_REGS ${regs.join(' ')}`,
    ...(p.returns !== undefined ? [`#define PROBE_RETURN (${p.returns})`] : []),
    TEMPLATE,
  ].join('\n');
}

/** Builds (or finds in the cache) one probe; its path. Throws CcUnavailable. */
export function buildProbe(p: ProbeSpec, hostAbi: number): string {
  return ccBuild({ source: probeSource(p, hostAbi), flags: ['-shared', '-fPIC', '-O1', '-Wall', '-Werror'], libs: ['-ldl'], fileName: p.fileName, under: 'nhost-probes' });
}
