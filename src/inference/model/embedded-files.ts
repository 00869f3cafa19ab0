import * as yauzl from 'yauzl';

/*
 * The associated files (label maps, ...) of a model with metadata are a zip appended to the .tflite flatbuffer.
 * tflite-support's MetadataPopulator writes offsets relative to the start of the whole file; other tools (e.g.
 * `cat model.tflite labels.zip`) leave them relative to the start of the zip. The End Of Central Directory
 * record tells us which: the central directory really starts at eocd - cdSize, and the difference from the
 * recorded offset is where the zip begins.
 */

export class EmbeddedZipError extends Error {
  override name = 'EmbeddedZipError';
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_MARKER = 0xffffffff;
/** Associated files are label maps and vocabularies; anything bigger is a corrupt size field or a zip bomb. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

export interface ZipLocation {
  /** Byte offset of the zip inside the model buffer (the base its internal offsets count from). */
  start: number;
  entries: number;
}

/** Finds the appended zip, or undefined when there is none; EmbeddedZipError when its directory is inconsistent. */
export function locateZip(buf: Buffer): ZipLocation | undefined {
  const lowest = Math.max(0, buf.length - EOCD_SIZE - MAX_COMMENT);
  for (let pos = buf.length - EOCD_SIZE; pos >= lowest; pos--) {
    if (buf.readUInt32LE(pos) !== EOCD_SIGNATURE) continue;
    // A comment must run exactly to the end of the file; this rejects the signature appearing inside weights.
    if (pos + EOCD_SIZE + buf.readUInt16LE(pos + 20) !== buf.length) continue;
    const entries = buf.readUInt16LE(pos + 10);
    const cdSize = buf.readUInt32LE(pos + 12);
    const cdOffset = buf.readUInt32LE(pos + 16);
    if (cdOffset === ZIP64_MARKER) return { start: 0, entries }; // yauzl resolves zip64 itself
    // A record that ends the file exactly is the zip's; from here on, inconsistencies mean damage.
    const cdStart = pos - cdSize;
    if (cdStart < 0 || cdStart - cdOffset < 0) {
      throw new EmbeddedZipError(`appended zip is damaged: its central directory (${cdSize} bytes at ${cdOffset}) does not fit`);
    }
    if (entries > 0 && buf.readUInt32LE(cdStart) !== CENTRAL_HEADER_SIGNATURE) {
      throw new EmbeddedZipError(`appended zip is damaged: no central directory at byte ${cdStart}`);
    }
    return { start: cdStart - cdOffset, entries };
  }
  return undefined;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Files of the zip appended to `model`, by name. No zip: an empty map. A damaged zip: EmbeddedZipError. */
export async function readEmbeddedFiles(model: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const location = locateZip(model);
  if (!location || location.entries === 0) return files;
  const zipBuffer = location.start === 0 ? model : model.subarray(location.start);
  let zip: yauzl.ZipFile | undefined;
  try {
    zip = await yauzl.fromBufferPromise(zipBuffer, { lazyEntries: true, strictFileNames: false });
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
        throw new EmbeddedZipError(`entry ${entry.fileName} claims ${entry.uncompressedSize} bytes`);
      }
      files.set(entry.fileName, await readStream(await zip.openReadStreamPromise(entry)));
    }
  } catch (err) {
    if (err instanceof EmbeddedZipError) throw err;
    throw new EmbeddedZipError(`appended zip is damaged: ${(err as Error).message}`, { cause: err });
  } finally {
    zip?.close();
  }
  return files;
}
