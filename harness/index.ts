// packcheck's public API.
export { checkWasmPack, selectIds, type RunnerOptions } from './runner.ts';
export { readPack, kindOf, LoadError, type PackFile } from './pack-file.ts';
export { CheckedWasmHost, type Tick, type HostOptions } from './wasm-host.ts';
export { Ledger, type Block, type Registration, type Finding } from './ledger.ts';
export { VtableLedger, type VtableRegistration } from './native/vtable-ledger.ts';
export { inspectWasm, shapeProblems, type WasmShape } from './wasm-shape.ts';
export * as abi from './abi.ts';
export * as messageSchema from './message-schema.ts';
export { REPORT_SCHEMA, type PackReport, type PropertyResult, type Status } from './report/model.ts';
export { corpusReport, CORPUS_SCHEMA } from './report/json.ts';
export { WASM_PROPERTY_IDS, ALL_IDS } from '../properties/catalog.ts';
export { main as runCli } from './cli.ts';
// The vtable ABI (native packs).
export { checkNativePack, type NativeRunnerOptions } from './native/runner.ts';
export { loadNativePack, DEFAULT_ENTRYPOINT, type NativePack, type TemplateCall, type TemplateHandler } from './native/vtable-host.ts';
export { AllocTracker, trackerEnv, trackerLibraryPath } from './native/alloc-tracker.ts';
export { MockVtableHost, acceptAllHost, failureInjectingHost, scheduleArb, hostTagArb, describeSchedule, type Schedule } from '../mocks/vtable-hosts.ts';
export { VTABLE_PROPERTY_IDS } from '../properties/catalog.ts';
// Host conformance (JS wasm-pack hosts, through adapters).
export type { HostUnderTest, HostAdapterFactory, HostTemplate, RunResult } from './host-kit/adapter.ts';
export { checkHost, type HostReport, type HostRunnerOptions } from './host-kit/runner.ts';
export { buildProbe, probeWat, echoOutputs, type ProbeScenario } from './host-kit/probe-pack.ts';
export { HostRecorder } from './host-kit/recorder.ts';
export { HOST_PROPERTY_IDS } from '../properties/catalog.ts';
export { checkBundle, type BundleRunnerOptions } from './bundle/check.ts';
