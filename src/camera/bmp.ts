import { DEFAULT_MAX_PIXELS, ImageDecodeError, ImageTooLargeError, type DecodedImage } from './image.js';

// sharp (libvips) cannot read BMP, and the sample images are BMPs, so we read the common subset ourselves.
// Supported: BITMAPINFOHEADER and its successors (40/52/56/108/124 bytes), 24-bit, 32-bit (BI_RGB, or
// BI_BITFIELDS/BI_ALPHABITFIELDS with byte-aligned 8-bit masks), 1/4/8-bit palettes, bottom-up and top-down.
// Not supported (clear error): OS/2 headers, RLE, 16-bit, embedded JPEG/PNG.

const FILE_HEADER_SIZE = 14;
const INFO_HEADER_SIZE = 40;
const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };

export function isBmp(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

/** `maxPixels`: checked from the header before anything is allocated (a 1-bit BMP holds 24 times its size in RGB). */
export function decodeBmp(bytes: Buffer, origin: string, maxPixels = DEFAULT_MAX_PIXELS): DecodedImage {
  const fail = (reason: string): never => {
    throw new ImageDecodeError(origin, reason);
  };
  if (!isBmp(bytes)) fail('not a BMP file (no "BM" signature)');
  if (bytes.length < FILE_HEADER_SIZE + 4) fail(`truncated BMP: only ${bytes.length} bytes`);
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize === 12 || headerSize === 64) fail(`OS/2 BMP header (${headerSize} bytes) is not supported`);
  if (headerSize < INFO_HEADER_SIZE) fail(`unsupported BMP header size ${headerSize}`);
  if (bytes.length < FILE_HEADER_SIZE + headerSize) fail(`truncated BMP header (${bytes.length} bytes)`);

  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22); // negative: rows are stored top-down
  const planes = bytes.readUInt16LE(26);
  const bpp = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const colorsUsed = bytes.readUInt32LE(46);
  const height = Math.abs(rawHeight);
  if (planes !== 1) fail(`corrupt BMP header: ${planes} planes`);
  if (width <= 0 || height === 0) fail(`corrupt BMP header: size ${width}x${rawHeight}`);
  if (width * height > maxPixels) throw new ImageTooLargeError(origin, width, height, maxPixels);
  const compressionName = COMPRESSION_NAMES[compression];
  if (compressionName) fail(`${compressionName}-compressed BMP is not supported`);

  const stride = Math.floor((width * bpp + 31) / 32) * 4; // rows are padded to 4 bytes
  const end = dataOffset + stride * height;
  if (dataOffset < FILE_HEADER_SIZE + headerSize) fail(`corrupt BMP header: pixel data offset ${dataOffset}`);
  if (end > bytes.length) fail(`truncated BMP: pixel data needs ${end} bytes, file has ${bytes.length}`);

  const out = Buffer.allocUnsafe(width * height * 3);
  const sourceRow = (y: number): number => dataOffset + (rawHeight < 0 ? y : height - 1 - y) * stride;

  if (bpp === 1 || bpp === 4 || bpp === 8) {
    if (compression !== BI_RGB) fail(`unsupported compression ${compression} for a ${bpp}-bit BMP`);
    const palette = readPalette(bytes, FILE_HEADER_SIZE + headerSize, colorsUsed || 1 << bpp, bpp, fail);
    const indexMask = (1 << bpp) - 1;
    for (let y = 0, d = 0; y < height; y++) {
      const row = sourceRow(y);
      for (let x = 0; x < width; x++) {
        const bit = x * bpp;
        const index = (bytes[row + (bit >> 3)]! >> (8 - bpp - (bit & 7))) & indexMask;
        out[d++] = palette[index * 3]!;
        out[d++] = palette[index * 3 + 1]!;
        out[d++] = palette[index * 3 + 2]!;
      }
    }
    return { width, height, data: out };
  }

  if (bpp !== 24 && bpp !== 32) fail(`${bpp}-bit BMP is not supported (only 1, 4, 8, 24 and 32)`);
  // Byte offsets of R, G, B inside one pixel; BMP stores BGR(X) unless bit masks say otherwise.
  let [r, g, b] = [2, 1, 0];
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 32) fail(`bit masks on a ${bpp}-bit BMP are not supported`);
    if (bytes.length < FILE_HEADER_SIZE + INFO_HEADER_SIZE + 12) fail('truncated BMP: bit masks missing');
    const masks = [0, 4, 8].map((o) => bytes.readUInt32LE(FILE_HEADER_SIZE + INFO_HEADER_SIZE + o));
    const offsets = masks.map(byteOffsetOfMask);
    if (offsets.some((o) => o < 0)) {
      fail(`unsupported bit masks ${masks.map((m) => '0x' + m.toString(16).padStart(8, '0')).join('/')}`);
    }
    [r, g, b] = offsets as [number, number, number];
  } else if (compression !== BI_RGB) {
    fail(`unsupported BMP compression ${compression}`);
  }
  const step = bpp / 8;
  for (let y = 0, d = 0; y < height; y++) {
    for (let x = 0, s = sourceRow(y); x < width; x++, s += step) {
      out[d++] = bytes[s + r]!;
      out[d++] = bytes[s + g]!;
      out[d++] = bytes[s + b]!;
    }
  }
  return { width, height, data: out };
}

/** Palette entries are B, G, R, reserved. Indices past the palette read as black, as browsers do. */
function readPalette(bytes: Buffer, start: number, count: number, bpp: number, fail: (r: string) => never): Uint8Array {
  if (count > 1 << bpp) fail(`corrupt BMP header: ${count} palette entries for ${bpp}-bit pixels`);
  if (start + count * 4 > bytes.length) fail('truncated BMP: palette missing');
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < count; i++) {
    palette[i * 3] = bytes[start + i * 4 + 2]!;
    palette[i * 3 + 1] = bytes[start + i * 4 + 1]!;
    palette[i * 3 + 2] = bytes[start + i * 4]!;
  }
  return palette;
}

/** 0x00ff0000 -> 2 (little-endian byte index); -1 for anything that is not exactly one whole byte. */
function byteOffsetOfMask(mask: number): number {
  for (let i = 0; i < 4; i++) if (mask === 0xff * 2 ** (8 * i)) return i;
  return -1;
}
