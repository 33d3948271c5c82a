// Reading a `.rflpack` bundle (a zip archive) from memory, defensively: the
// archive may be hostile. Limits are checked twice: on the sizes the central
// directory declares, before anything is inflated, and on the bytes actually
// inflated while an entry is read (headers can lie). Nothing is ever written
// to disk here, and no error escapes as a throw: a corrupt or oversized
// archive is a `ReadFailure` the checker reports as `bundle.manifest.schema`.
import yauzl from 'yauzl';
import type { Readable } from 'node:stream';

const MIB = 1024 * 1024;

export interface BundleLimits {
  /** Entries the central directory may list. */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of all entries together (declared), and of all entries read (inflated). */
  maxTotalBytes: number;
  /** Uncompressed : compressed, for entries larger than `ratioAboveBytes`. */
  maxRatio: number;
  ratioAboveBytes: number;
}

export const MAX_ENTRIES = 1000;
export const MAX_ENTRY_BYTES = 64 * MIB;
export const MAX_TOTAL_BYTES = 256 * MIB;
export const MAX_COMPRESSION_RATIO = 100;
export const RATIO_CHECKED_ABOVE_BYTES = 1 * MIB;

export const BUNDLE_LIMITS: Readonly<BundleLimits> = Object.freeze({
  maxEntries: MAX_ENTRIES,
  maxEntryBytes: MAX_ENTRY_BYTES,
  maxTotalBytes: MAX_TOTAL_BYTES,
  maxRatio: MAX_COMPRESSION_RATIO,
  ratioAboveBytes: RATIO_CHECKED_ABOVE_BYTES,
});

export interface BundleEntry {
  /** The name as the archive gives it (UTF-8 or CP437, as its flags say), backslashes kept. */
  name: string;
  /** The name's raw bytes read as UTF-8, when that differs from `name` (an Info-ZIP Unicode path field overrode it). */
  rawName?: string;
  /** The name's raw bytes contain a NUL. */
  rawHasNul: boolean;
  isSymlink: boolean;
  isDirectory: boolean;
  compressedSize: number;
  uncompressedSize: number;
  /** Filled by `Bundle.read` (manifest.json and target files only). */
  bytes?: Uint8Array;
}

export interface ReadFailure {
  failure: 'limit' | 'fault';
  message: string;
}

export const isReadFailure = (x: unknown): x is ReadFailure => typeof x === 'object' && x !== null && 'failure' in x;

const fmtBytes = (n: number) => (n >= MIB ? `${(n / MIB).toFixed(n % MIB === 0 ? 0 : 1)} MiB` : `${n} bytes`);
const quote = (s: string) => JSON.stringify(s);

/** An archive whose central directory passed the limits; entries are inflated on demand. */
export class Bundle {
  private inflatedTotal = 0;

  constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly raw: yauzl.Entry[],
    readonly entries: BundleEntry[],
    readonly limits: BundleLimits,
  ) {}

  /** Every entry of that exact name (a name may occur twice in a zip). */
  find(name: string): BundleEntry[] {
    return this.entries.filter((e) => e.name === name);
  }

  /**
   * Inflates one entry, counting bytes as they arrive and stopping at a limit.
   * The bytes are kept on the entry (`entry.bytes`).
   */
  async read(entry: BundleEntry): Promise<Uint8Array | ReadFailure> {
    if (entry.bytes) return entry.bytes;
    const i = this.entries.indexOf(entry);
    const raw = this.raw[i];
    if (!raw) return { failure: 'fault', message: `entry ${quote(entry.name)} is not in this archive` };
    if (raw.isEncrypted()) return { failure: 'fault', message: `entry ${quote(entry.name)} is encrypted; bundles are not` };
    const stream = await new Promise<Readable | ReadFailure>((resolve) => {
      try {
        this.zip.openReadStream(raw, (err, s) => resolve(err ? { failure: 'fault', message: `entry ${quote(entry.name)} cannot be read: ${err.message}` } : s));
      } catch (e) {
        resolve({ failure: 'fault', message: `entry ${quote(entry.name)} cannot be read: ${(e as Error).message}` });
      }
    });
    if (isReadFailure(stream)) return stream;
    const { maxEntryBytes, maxTotalBytes, maxRatio, ratioAboveBytes } = this.limits;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let n = 0;
      let settled = false;
      const finish = (r: Uint8Array | ReadFailure) => {
        if (settled) return;
        settled = true;
        if (isReadFailure(r)) stream.destroy();
        resolve(r);
      };
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        n += chunk.length;
        this.inflatedTotal += chunk.length;
        if (n > maxEntryBytes) return finish({ failure: 'limit', message: `entry ${quote(entry.name)} inflated past the per-entry limit of ${fmtBytes(maxEntryBytes)} (its header declares ${fmtBytes(raw.uncompressedSize)})` });
        if (this.inflatedTotal > maxTotalBytes) return finish({ failure: 'limit', message: `the entries read inflated past the total limit of ${fmtBytes(maxTotalBytes)} (while reading ${quote(entry.name)})` });
        if (n > ratioAboveBytes && n > maxRatio * Math.max(raw.compressedSize, 1)) return finish({ failure: 'limit', message: `entry ${quote(entry.name)} inflated past ${maxRatio}:1 its ${fmtBytes(raw.compressedSize)} compressed (compression ratio limit; its header declares ${fmtBytes(raw.uncompressedSize)})` });
        chunks.push(chunk);
      });
      stream.on('error', (e: Error) => {
        // yauzl (validateEntrySizes) compares the bytes inflated with the declared size.
        if (/too many bytes/.test(e.message)) finish({ failure: 'limit', message: `entry ${quote(entry.name)} inflates to more than the ${fmtBytes(raw.uncompressedSize)} its header declares (${e.message}): the header lies` });
        else finish({ failure: 'fault', message: `entry ${quote(entry.name)} is corrupt: ${e.message}` });
      });
      stream.on('end', () => finish(new Uint8Array(Buffer.concat(chunks, n))));
    });
  }

  close(): void {
    try {
      this.zip.close();
    } catch {
      // fromBuffer archives hold no descriptor; closing twice is harmless.
    }
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

function describeEntry(e: yauzl.Entry): BundleEntry {
  const rawBytes = e.fileNameRaw;
  // strictFileNames=true: keep backslashes as they are, so that path checks see them.
  const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, rawBytes, e.extraFields, true);
  const asUtf8 = rawBytes.toString('utf8');
  const mode = (e.externalFileAttributes >>> 16) & S_IFMT;
  const entry: BundleEntry = {
    name,
    rawHasNul: rawBytes.includes(0),
    isSymlink: mode === S_IFLNK,
    isDirectory: name.endsWith('/') || mode === S_IFDIR,
    compressedSize: e.compressedSize,
    uncompressedSize: e.uncompressedSize,
  };
  if (asUtf8 !== name && e.extraFields.some((f) => f.id === 0x7075)) entry.rawName = asUtf8;
  return entry;
}

/** The first limit a declared entry breaks, given the total declared so far (this entry included). */
function declaredLimit(e: yauzl.Entry, name: string, total: number, l: BundleLimits): string | null {
  if (e.uncompressedSize > l.maxEntryBytes) return `entry ${quote(name)} declares ${fmtBytes(e.uncompressedSize)} uncompressed; the per-entry limit is ${fmtBytes(l.maxEntryBytes)}`;
  if (total > l.maxTotalBytes) return `the entries declare ${fmtBytes(total)} uncompressed in total (at ${quote(name)}); the total limit is ${fmtBytes(l.maxTotalBytes)}`;
  if (e.uncompressedSize > l.ratioAboveBytes && e.uncompressedSize > l.maxRatio * Math.max(e.compressedSize, 1)) {
    const ratio = e.compressedSize > 0 ? Math.round(e.uncompressedSize / e.compressedSize) : Infinity;
    return `entry ${quote(name)} declares ${fmtBytes(e.uncompressedSize)} from ${fmtBytes(e.compressedSize)} compressed (${ratio}:1); the compression ratio limit is ${l.maxRatio}:1 for entries over ${fmtBytes(l.ratioAboveBytes)}`;
  }
  return null;
}

/**
 * Opens a zip archive from memory and lists its entries, refusing it at the
 * first declared limit it breaks. Nothing is inflated yet.
 */
export async function openBundle(bytes: Uint8Array, limits: Partial<BundleLimits> = {}): Promise<Bundle | ReadFailure> {
  const l: BundleLimits = { ...BUNDLE_LIMITS, ...limits };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const zip = await new Promise<yauzl.ZipFile | ReadFailure>((resolve) => {
    try {
      // decodeStrings: false, so that yauzl hands over names it would refuse
      // (absolute, `..`) for bundle.paths.safe to report rather than failing the whole archive.
      yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true, decodeStrings: false }, (err, z) =>
        resolve(err ? { failure: 'fault', message: `not a readable zip archive: ${err.message}` } : z),
      );
    } catch (e) {
      resolve({ failure: 'fault', message: `not a readable zip archive: ${(e as Error).message}` });
    }
  });
  if (isReadFailure(zip)) return zip;
  const fail = (f: ReadFailure) => {
    try {
      zip.close();
    } catch {
      // already closed
    }
    return f;
  };
  if (zip.entryCount > l.maxEntries) return fail({ failure: 'limit', message: `the central directory declares ${zip.entryCount} entries; the entry count limit is ${l.maxEntries}` });

  return new Promise((resolve) => {
    const raw: yauzl.Entry[] = [];
    const entries: BundleEntry[] = [];
    let total = 0;
    let settled = false;
    const finish = (r: Bundle | ReadFailure) => {
      if (settled) return;
      settled = true;
      resolve(isReadFailure(r) ? fail(r) : r);
    };
    zip.on('entry', (e: yauzl.Entry) => {
      if (settled) return;
      let entry: BundleEntry;
      try {
        entry = describeEntry(e);
      } catch (err) {
        return finish({ failure: 'fault', message: `entry ${raw.length + 1} has an unreadable name: ${(err as Error).message}` });
      }
      if (raw.length + 1 > l.maxEntries) return finish({ failure: 'limit', message: `the archive holds more than ${l.maxEntries} entries (the entry count limit)` });
      total += e.uncompressedSize;
      const over = declaredLimit(e, entry.name, total, l);
      if (over) return finish({ failure: 'limit', message: over });
      raw.push(e);
      entries.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => finish(new Bundle(zip, raw, entries, l)));
    zip.on('error', (err: Error) => finish({ failure: 'fault', message: `corrupt zip archive: ${err.message}` }));
    zip.readEntry();
  });
}
