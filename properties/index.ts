// The wasm battery, in catalog order.
import { WASM_PROPERTY_IDS, type WasmPropertyId } from './catalog.ts';
import type { PackProperty } from './types.ts';
import { defineProperty, type Defined } from './define.ts';
import { versionExpected, versionStable } from './version.ts';
import { loadInstantiate, shapeExports } from './wasm-shape.ts';
import { registerDenseIds, registerMetadata, registerStatus, registerUniqueNames } from './wasm-register.ts';
import { allocBounds, allocDisjoint, allocHuge, allocIntegrity, allocNoLeak, allocZero, freeNoop } from './wasm-alloc.ts';
import { instanceCreate, instanceDestroy, instanceModel, instanceNoLeak, instanceUnique } from './wasm-instance.ts';
import {
  runBadShape,
  runInvalidJson,
  runInvalidUtf8,
  runLargePayload,
  runOutSlots,
  runOutputJson,
  runOutputOwned,
  runStatusCodes,
  runUnknownInstance,
  runUtf8Edges,
  runValidPayload,
} from './wasm-run.ts';

const ALL: PackProperty[] = [
  loadInstantiate,
  versionStable,
  versionExpected,
  shapeExports,
  registerStatus,
  registerMetadata,
  registerUniqueNames,
  registerDenseIds,
  allocZero,
  allocBounds,
  allocDisjoint,
  allocIntegrity,
  allocHuge,
  freeNoop,
  allocNoLeak,
  instanceCreate,
  instanceUnique,
  instanceDestroy,
  instanceModel,
  instanceNoLeak,
  runOutSlots,
  runOutputJson,
  runOutputOwned,
  runUnknownInstance,
  runInvalidUtf8,
  runInvalidJson,
  runBadShape,
  runValidPayload,
  runUtf8Edges,
  runLargePayload,
  runStatusCodes,
];

export const WASM_BATTERY: ReadonlyMap<WasmPropertyId, Defined<PackProperty>> = new Map(
  WASM_PROPERTY_IDS.map((id) => {
    const p = ALL.find((q) => q.id === id);
    if (!p) throw new Error(`property ${id} of the catalog has no implementation`);
    return [id, defineProperty('wasm', p)];
  }),
);

export type { PackProperty } from './types.ts';
