// packcheck's public API.
export { checkWasmPack, selectIds, type RunnerOptions } from './runner.ts';
export { readPack, kindOf, LoadError, type PackFile } from './pack-file.ts';
export { CheckedWasmHost, type Tick, type HostOptions } from './wasm-host.ts';
export { Ledger, type Block, type Registration, type Finding } from './ledger.ts';
export { inspectWasm, shapeProblems, type WasmShape } from './wasm-shape.ts';
export * as abi from './abi.ts';
export * as messageSchema from './message-schema.ts';
export { REPORT_SCHEMA, type PackReport, type PropertyResult, type Status } from './report/model.ts';
export { corpusReport, CORPUS_SCHEMA } from './report/json.ts';
export { WASM_PROPERTY_IDS, ALL_IDS } from '../properties/catalog.ts';
export { main as runCli } from './cli.ts';
