import fs from 'node:fs';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * Reads entries of a zip file on disk as streams, without loading the archive: the central directory is read
 * from the end of the file, then one entry's bytes are streamed from its offset through an inflater. Memory
 * stays the same whatever the archive's size. Stored (0) and deflated (8) entries; no ZIP64 (archives and
 * entries under 4 GiB and 65,535 entries), no encryption. Names are bytes; the caller decodes them (the UTF-8
 * flag says whether they are UTF-8).
 */

export class ZipFileError extends Error {
  override name = 'ZipFileError';
}

export interface ZipEntry {
  nameBytes: Buffer;
  /** General purpose flag bit 11: the name is UTF-8. */
  isUtf8: boolean;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

async function readAt(file: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ZipFileError('the zip ends early');
  return buffer;
}

/** The entries of the central directory (their names and where their data is). */
export async function zipEntries(path: string): Promise<ZipEntry[]> {
  const file = await fs.promises.open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size < EOCD_SIZE) throw new ZipFileError('not a zip: too short');
    const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tail = await readAt(file, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - EOCD_SIZE; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFileError('not a zip: no end of central directory');
    const count = tail.readUInt16LE(eocd + 10);
    const directorySize = tail.readUInt32LE(eocd + 12);
    const directoryOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || directoryOffset === 0xffffffff) throw new ZipFileError('ZIP64 is not supported');
    if (directoryOffset + directorySize > size) throw new ZipFileError('not a zip: directory out of range');
    const directory = await readAt(file, directoryOffset, directorySize);
    const entries: ZipEntry[] = [];
    let at = 0;
    for (let n = 0; n < count; n += 1) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE)
        throw new ZipFileError('not a zip: bad central directory');
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      entries.push({
        nameBytes: directory.subarray(at + 46, at + 46 + nameLength),
        isUtf8: (directory.readUInt16LE(at + 8) & 0x0800) !== 0,
        method: directory.readUInt16LE(at + 10),
        compressedSize: directory.readUInt32LE(at + 20),
        size: directory.readUInt32LE(at + 24),
        localHeaderOffset: directory.readUInt32LE(at + 42),
      });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await file.close();
  }
}

/** The entry's uncompressed bytes, streamed from the file. */
export async function openZipEntry(path: string, entry: ZipEntry): Promise<Readable> {
  if (entry.method !== 0 && entry.method !== 8)
    throw new ZipFileError(`compression method ${entry.method} is not supported`);
  const file = await fs.promises.open(path, 'r');
  let start: number;
  try {
    const local = await readAt(file, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipFileError('not a zip: bad local header');
    start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await file.close();
  }
  if (entry.compressedSize === 0) return Readable.from([]);
  const raw = fs.createReadStream(path, { start, end: start + entry.compressedSize - 1 });
  if (entry.method === 0) return raw;
  const inflate = zlib.createInflateRaw();
  raw.on('error', (error) => inflate.destroy(error));
  return raw.pipe(inflate);
}
