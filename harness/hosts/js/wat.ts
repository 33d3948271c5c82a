// WAT text to wasm bytes, through wabt (from npm): the host kit's probe packs
// and the WAT packs under test are compiled with it.
type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtPromise: Promise<Wabt> | null = null;

export async function watToWasm(text: string, name = 'pack.wat'): Promise<Uint8Array> {
  wabtPromise ??= import('wabt').then((m) => m.default());
  const wabt = await wabtPromise;
  const mod = wabt.parseWat(name, text, {});
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}
