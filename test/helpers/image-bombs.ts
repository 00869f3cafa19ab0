import { crc32, deflateSync } from 'node:zlib';

/*
 * Decompression bombs, made in milliseconds and a few KB on disk: an image whose header promises far more pixels
 * than any camera sends. Never commit one; tests write them into a temp dir.
 */

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A real, valid 1-bit greyscale PNG of one colour: 16000x16000 is ~32 KB here and 768 MB once decoded to RGB.
 * Only the header is needed to refuse it; a decoder that does not check would really decode it.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8))); // filter byte 0 and black pixels, every row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small real JPEG whose frame header (SOF) is rewritten to claim width x height: refused from the header alone. */
export function jpegBomb(smallJpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(smallJpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) throw new Error('not a JPEG marker sequence');
    const marker = out[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker in the JPEG');
}

/** The 54-byte header of a 1-bit BMP of width x height, without its pixel data (1-bit: 24 times its size in RGB). */
export function bmpBombHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(54 + 8);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(54 + 8 + Math.ceil(width / 32) * 4 * height, 2);
  b.writeUInt32LE(54 + 8, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(1, 28);
  return b;
}
