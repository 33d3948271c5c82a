// Imports the harness does not implement (wasm-bindgen glue and the like).
// Each is a function that fails the calling property with a clear message
// instead of letting instantiation crash or a call silently return undefined.
import { REGISTER_IMPORT } from '../../abi/abi.ts';

export class UnprovidedImportCall extends Error {
  constructor(readonly module: string, readonly field: string) {
    super(`the pack called its import "${module}.${field}", which packcheck does not provide (only ${REGISTER_IMPORT.module}.${REGISTER_IMPORT.name} is part of the wasm ABI)`);
    this.name = 'UnprovidedImportCall';
  }
}

export type RegisterTemplateImport = (ptr: number, len: number, factoryId: number) => void;

/** The import object for a module: the register import plus a failing stub for every other function import. */
export function importsFor(module: WebAssembly.Module, registerTemplate: RegisterTemplateImport): WebAssembly.Imports {
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const ns = (imports[imp.module] ??= {});
    if (imp.module === REGISTER_IMPORT.module && imp.name === REGISTER_IMPORT.name && imp.kind === 'function') {
      ns[imp.name] = registerTemplate;
    } else if (imp.kind === 'function') {
      ns[imp.name] = () => {
        throw new UnprovidedImportCall(imp.module, imp.name);
      };
    }
    // Memories, tables and globals are not stubbed: the ABI has the pack export
    // its memory, so instantiation fails with a LinkError that names the import.
  }
  return imports;
}

/** `module.field` of every import, in declaration order. */
export function importNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
}
