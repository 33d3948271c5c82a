// The property ids of ../shared/PROPERTIES.md: an interface. Never change an
// id's meaning; add new ids instead.

export const WASM_PROPERTY_IDS = [
  'wasm.load.instantiate',
  'abi.version.stable',
  'abi.version.expected',
  'wasm.shape.exports',
  'wasm.register.status',
  'wasm.register.metadata',
  'wasm.register.unique-names',
  'wasm.register.dense-ids',
  'wasm.alloc.zero',
  'wasm.alloc.bounds',
  'wasm.alloc.disjoint',
  'wasm.alloc.integrity',
  'wasm.alloc.huge',
  'wasm.free.noop',
  'wasm.alloc.no-leak',
  'wasm.instance.create',
  'wasm.instance.unique',
  'wasm.instance.destroy',
  'wasm.instance.model',
  'wasm.instance.no-leak',
  'wasm.run.out-slots',
  'wasm.run.output-json',
  'wasm.run.output-owned',
  'wasm.run.unknown-instance',
  'wasm.run.invalid-utf8',
  'wasm.run.invalid-json',
  'wasm.run.bad-shape',
  'wasm.run.valid-payload',
  'wasm.run.utf8-edges',
  'wasm.run.large-payload',
  'wasm.run.status-codes',
] as const;

export const VTABLE_PROPERTY_IDS = [
  'vtable.load.dlopen',
  'abi.version.stable',
  'abi.version.expected',
  'vtable.shape.symbols',
  'vtable.register.null-host',
  'vtable.register.host-data',
  'vtable.register.args',
  'vtable.register.status-ok',
  'vtable.register.sticky-status',
  'vtable.register.continues',
  'vtable.register.reclaim',
  'vtable.register.keep-accepted',
  'vtable.register.unique-ids',
  'vtable.register.deterministic',
  'vtable.factory.handle',
  'vtable.drop.frees',
] as const;

export const HOST_PROPERTY_IDS = [
  'host.load.conforming',
  'host.alloc.paired',
  'host.output.freed',
  'host.memory.regrow',
  'host.run.live-blocks',
  'host.register.once',
  'host.output.bounds',
  'host.create.zero',
  'host.error.nonjson',
  'host.instance.distinct',
  'host.instance.destroyed',
  'host.payload.roundtrip',
  'host.output.nonjson-success',
  'host.register.bad-metadata',
  'host.pointer.high',
  'host.register.duplicate',
] as const;

export const BUNDLE_PROPERTY_IDS = [
  'bundle.manifest.schema',
  'bundle.paths.safe',
  'bundle.targets.present',
  'bundle.abi.match',
  'bundle.templates.match',
] as const;

export const NHOST_PROPERTY_IDS = [
  'nhost.load.conforming',
  'nhost.version.checked',
  'nhost.vtable.valid',
  'nhost.register.rejects',
  'nhost.drop.rejected',
  'nhost.drop.once',
  'nhost.load.rollback',
  'nhost.factory.null',
  'nhost.pack.identity',
] as const;

export const HARNESS_IDS = ['harness.timeout', 'harness.crash', 'harness.load'] as const;

export type WasmPropertyId = (typeof WASM_PROPERTY_IDS)[number];
export type VtablePropertyId = (typeof VTABLE_PROPERTY_IDS)[number];
export type HostPropertyId = (typeof HOST_PROPERTY_IDS)[number];
export type BundlePropertyId = (typeof BUNDLE_PROPERTY_IDS)[number];
export type NHostPropertyId = (typeof NHOST_PROPERTY_IDS)[number];
export type HarnessId = (typeof HARNESS_IDS)[number];
export type ResultId = WasmPropertyId | HarnessId;

export const ALL_IDS: readonly string[] = [...new Set([...WASM_PROPERTY_IDS, ...VTABLE_PROPERTY_IDS, ...HOST_PROPERTY_IDS, ...BUNDLE_PROPERTY_IDS, ...NHOST_PROPERTY_IDS, ...HARNESS_IDS])];
