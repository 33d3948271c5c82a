// The dynamic symbols a shared object exports, read from its ELF section
// headers (.dynsym and its string table), 32- or 64-bit, either byte order.
// What the dynamic loader would let a host dlopen and look up: defined
// (not undefined-section), global or weak, function or data.
import { LoadError } from '../pack-file.ts';

export interface ElfSymbol {
  name: string;
  kind: 'function' | 'object' | 'other';
}

const SHT_DYNSYM = 11;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export function exportedSymbols(bytes: Uint8Array, path: string): ElfSymbol[] {
  const fail = (what: string): never => {
    throw new LoadError(`${path}: not a readable ELF shared object (${what}); give the path of a .so built for the vtable ABI`);
  };
  if (bytes.length < 52) fail('truncated header');
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inside = (at: number, n: number) => at >= 0 && n >= 0 && at + n <= bytes.length;
  const u16 = (at: number) => (inside(at, 2) ? v.getUint16(at, little) : fail(`offset ${at} past the end`));
  const u32 = (at: number) => (inside(at, 4) ? v.getUint32(at, little) : fail(`offset ${at} past the end`));
  const word = (at: number) => (is64 ? (inside(at, 8) ? Number(v.getBigUint64(at, little)) : fail(`offset ${at} past the end`)) : u32(at));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: u32(at + 4), offset: word(at + (is64 ? 0x18 : 0x10)), size: word(at + (is64 ? 0x20 : 0x14)), link: u32(at + (is64 ? 0x28 : 0x18)), entsize: word(at + (is64 ? 0x38 : 0x24)) };
  };
  const out: ElfSymbol[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_DYNSYM) continue;
    if (s.link >= shnum) fail('the symbol table names no string table');
    const strtab = section(s.link);
    const entsize = s.entsize || (is64 ? 24 : 16);
    const cstring = (off: number) => {
      const start = strtab.offset + off;
      let end = start;
      while (end < strtab.offset + strtab.size && end < bytes.length && bytes[end] !== 0) end++;
      return new TextDecoder().decode(bytes.subarray(start, end));
    };
    for (let at = s.offset + entsize; at + entsize <= s.offset + s.size; at += entsize) {
      const name = u32(at);
      const info = bytes[at + (is64 ? 4 : 12)]!;
      const shndx = u16(at + (is64 ? 6 : 14));
      const bind = info >> 4;
      const type = info & 0xf;
      if (shndx === 0 || (bind !== STB_GLOBAL && bind !== STB_WEAK)) continue;
      out.push({ name: cstring(name), kind: type === STT_FUNC || type === STT_GNU_IFUNC ? 'function' : type === STT_OBJECT ? 'object' : 'other' });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
