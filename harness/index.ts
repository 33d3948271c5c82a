// packcheck's public API.
export { checkWasmPack, selectIds, type RunnerOptions } from './run/wasm-runner.ts';
export { readPack, kindOf, LoadError, type PackFile } from './run/pack-file.ts';
export { CheckedWasmHost, type Tick, type HostOptions } from './hosts/wasm/wasm-host.ts';
export { Ledger, type Block, type Registration, type Finding } from './hosts/wasm/ledger.ts';
export { VtableLedger, type VtableRegistration } from './hosts/native/vtable-ledger.ts';
export { inspectWasm, shapeProblems, type WasmShape } from './hosts/wasm/wasm-shape.ts';
export * as abi from './abi/abi.ts';
export * as messageSchema from './abi/message-schema.ts';
export { REPORT_SCHEMA, type PackReport, type PropertyResult, type Status } from './report/model.ts';
export { corpusReport, CORPUS_SCHEMA } from './report/json.ts';
export { WASM_PROPERTY_IDS, ALL_IDS } from '../properties/catalog.ts';
export { main as runCli } from './cli.ts';
// The vtable ABI (native packs).
export { checkNativePack, type NativeRunnerOptions } from './run/native-runner.ts';
export { loadNativePack, DEFAULT_ENTRYPOINT, type NativePack, type TemplateCall, type TemplateHandler } from './hosts/native/vtable-host.ts';
export { AllocTracker, trackerEnv, trackerLibraryPath } from './hosts/native/alloc-tracker.ts';
export { MockVtableHost, acceptAllHost, failureInjectingHost, scheduleArb, hostTagArb, describeSchedule, type Schedule } from './hosts/native/mock-hosts.ts';
export { VTABLE_PROPERTY_IDS } from '../properties/catalog.ts';
// Host conformance (JS wasm-pack hosts, through adapters).
export type { HostUnderTest, HostAdapterFactory, HostTemplate, RunResult } from './hosts/js/adapter.ts';
export { checkHost, type HostReport, type HostRunnerOptions } from './run/host-runner.ts';
export { buildProbe, probeWat, echoOutputs, type ProbeScenario } from './hosts/js/probe-pack.ts';
export { HostRecorder } from './hosts/js/recorder.ts';
export { HOST_PROPERTY_IDS } from '../properties/catalog.ts';
export { checkBundle, type BundleRunnerOptions } from './run/bundle/check.ts';
