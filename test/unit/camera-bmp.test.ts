import { describe, expect, it } from 'vitest';
import { decodeBmp, isBmp } from '../../src/camera/bmp.js';
import { ImageDecodeError } from '../../src/camera/image.js';

interface BmpSpec {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  headerSize?: 40 | 108 | 124;
  /** RGB, row-major, top row first (what the decoder must return). */
  rgb?: Buffer;
  /** For palettised images: one index per pixel, top row first. */
  indices?: number[];
  palette?: Array<[number, number, number]>;
  /** R, G, B masks: writes BI_BITFIELDS. */
  masks?: [number, number, number];
  compression?: number;
}

/** Writes a BMP the way the spec says, with garbage in the row padding so that skipping it is tested. */
function buildBmp(s: BmpSpec): Buffer {
  const headerSize = s.headerSize ?? 40;
  const stride = Math.floor((s.width * s.bpp + 31) / 32) * 4;
  const masksAfterHeader = s.masks && headerSize === 40 ? 12 : 0;
  const paletteBytes = (s.palette?.length ?? 0) * 4;
  const dataOffset = 14 + headerSize + masksAfterHeader + paletteBytes;
  const buf = Buffer.alloc(dataOffset + stride * s.height);
  buf.fill(0xab, dataOffset);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(dataOffset, 10);
  buf.writeUInt32LE(headerSize, 14);
  buf.writeInt32LE(s.width, 18);
  buf.writeInt32LE(s.topDown ? -s.height : s.height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(s.bpp, 28);
  buf.writeUInt32LE(s.compression ?? (s.masks ? 3 : 0), 30);
  buf.writeUInt32LE(stride * s.height, 34);
  buf.writeUInt32LE(s.palette?.length ?? 0, 46);
  s.masks?.forEach((m, i) => buf.writeUInt32LE(m, 54 + i * 4));
  s.palette?.forEach(([r, g, b], i) => {
    const o = 14 + headerSize + i * 4;
    buf[o] = b;
    buf[o + 1] = g;
    buf[o + 2] = r;
    buf[o + 3] = 0;
  });
  const maskOffset = (m: number): number => [0xff, 0xff00, 0xff0000, 0xff000000].indexOf(m);
  for (let y = 0; y < s.height; y++) {
    const row = dataOffset + (s.topDown ? y : s.height - 1 - y) * stride;
    if (s.indices) {
      for (let x = 0; x < s.width; x++) {
        const bit = x * s.bpp;
        const o = row + (bit >> 3);
        if (x === 0 || (bit & 7) === 0) buf[o] = 0;
        buf[o] = buf[o]! | (s.indices[y * s.width + x]! << (8 - s.bpp - (bit & 7)));
      }
      // padding after the last used byte stays 0xab
      continue;
    }
    for (let x = 0; x < s.width; x++) {
      const [r, g, b] = [0, 1, 2].map((c) => s.rgb![(y * s.width + x) * 3 + c]!) as [number, number, number];
      const p = row + x * (s.bpp / 8);
      if (s.masks) {
        buf.fill(0x77, p, p + 4); // alpha / unused byte: must be ignored
        buf[p + maskOffset(s.masks[0])] = r;
        buf[p + maskOffset(s.masks[1])] = g;
        buf[p + maskOffset(s.masks[2])] = b;
      } else {
        buf[p] = b;
        buf[p + 1] = g;
        buf[p + 2] = r;
        if (s.bpp === 32) buf[p + 3] = 0x77;
      }
    }
  }
  return buf;
}

function pattern(width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    out[i * 3] = (x * 37 + y * 11) & 255;
    out[i * 3 + 1] = (x * 5 + y * 71 + 3) & 255;
    out[i * 3 + 2] = (x * x + y * 13 + 200) & 255;
  }
  return out;
}

function expectDecodeError(bytes: Buffer, reason: RegExp): void {
  let caught: unknown;
  try {
    decodeBmp(bytes, '/cams/broken.bmp');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ImageDecodeError);
  const err = caught as ImageDecodeError;
  expect(err.origin).toBe('/cams/broken.bmp');
  expect(err.message).toMatch(/^cannot decode \/cams\/broken\.bmp: /);
  expect(err.reason).toMatch(reason);
}

describe('decodeBmp', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('24-bit bottom-up, width %i (every row padding)', (width) => {
    const rgb = pattern(width, 3);
    const img = decodeBmp(buildBmp({ width, height: 3, bpp: 24, rgb }), 'x.bmp');
    expect(img.width).toBe(width);
    expect(img.height).toBe(3);
    expect(img.data.equals(rgb)).toBe(true);
  });

  it('24-bit top-down and bottom-up give the same picture; flipping the height sign flips the rows', () => {
    const rgb = pattern(5, 4);
    const topDown = buildBmp({ width: 5, height: 4, bpp: 24, rgb, topDown: true });
    const bottomUp = buildBmp({ width: 5, height: 4, bpp: 24, rgb });
    expect(decodeBmp(topDown, 'a').data.equals(rgb)).toBe(true);
    expect(decodeBmp(bottomUp, 'b').data.equals(rgb)).toBe(true);
    topDown.writeInt32LE(4, 22); // now read as bottom-up: rows come out reversed
    const flipped = decodeBmp(topDown, 'c').data;
    expect(flipped.subarray(0, 15).equals(rgb.subarray(45, 60))).toBe(true);
    expect(flipped.equals(rgb)).toBe(false);
  });

  it.each([40, 108, 124] as const)('reads pixels after a %i-byte header', (headerSize) => {
    const rgb = pattern(3, 2);
    expect(decodeBmp(buildBmp({ width: 3, height: 2, bpp: 24, rgb, headerSize }), 'x').data.equals(rgb)).toBe(true);
  });

  it('32-bit BI_RGB ignores the fourth byte', () => {
    const rgb = pattern(3, 3);
    expect(decodeBmp(buildBmp({ width: 3, height: 3, bpp: 32, rgb }), 'x').data.equals(rgb)).toBe(true);
  });

  it.each([
    { name: 'BGRA (standard)', masks: [0x00ff0000, 0x0000ff00, 0x000000ff], headerSize: 40 },
    { name: 'BGRA (standard)', masks: [0x00ff0000, 0x0000ff00, 0x000000ff], headerSize: 124 },
    { name: 'RGBA', masks: [0x000000ff, 0x0000ff00, 0x00ff0000], headerSize: 108 },
    { name: 'ARGB', masks: [0x0000ff00, 0x00ff0000, 0xff000000], headerSize: 124 },
  ] as const)('32-bit BI_BITFIELDS $name, $headerSize-byte header', ({ masks, headerSize }) => {
    const rgb = pattern(4, 3);
    const bmp = buildBmp({ width: 4, height: 3, bpp: 32, rgb, masks: [...masks], headerSize, topDown: true });
    expect(decodeBmp(bmp, 'x').data.equals(rgb)).toBe(true);
  });

  it('8-bit palette, odd width, short palette', () => {
    const palette: Array<[number, number, number]> = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [10, 20, 30],
    ];
    const indices = [0, 1, 2, 3, 2, 1, 0, 3, 3]; // 3 x 3
    const img = decodeBmp(buildBmp({ width: 3, height: 3, bpp: 8, indices, palette }), 'x');
    expect([...img.data]).toEqual(indices.flatMap((i) => palette[i]!));
  });

  it.each([1, 4] as const)('%i-bit palette', (bpp) => {
    const palette: Array<[number, number, number]> = Array.from({ length: 1 << bpp }, (_, i) => [i * 15, 255 - i * 15, i]);
    const width = 11;
    const indices = Array.from({ length: width * 2 }, (_, i) => (i * 7) % (1 << bpp));
    const img = decodeBmp(buildBmp({ width, height: 2, bpp, indices, palette }), 'x');
    expect([...img.data]).toEqual(indices.flatMap((i) => palette[i]!));
  });

  it('palette indices past the palette read as black', () => {
    const img = decodeBmp(buildBmp({ width: 2, height: 1, bpp: 8, indices: [0, 5], palette: [[9, 8, 7]] }), 'x');
    expect([...img.data]).toEqual([9, 8, 7, 0, 0, 0]);
  });

  it('truncated pixel data is an error naming the origin, not a partial picture', () => {
    const bmp = buildBmp({ width: 16, height: 16, bpp: 24, rgb: pattern(16, 16) });
    expectDecodeError(bmp.subarray(0, bmp.length - 1), /truncated.*needs \d+ bytes/);
    expectDecodeError(bmp.subarray(0, 30), /truncated BMP header/);
    expectDecodeError(bmp.subarray(0, 10), /truncated/);
  });

  it('a palette running past the end of the file is an error', () => {
    const paletted = buildBmp({ width: 2, height: 1, bpp: 8, indices: [0, 1], palette: [[1, 2, 3], [4, 5, 6]] });
    paletted.writeUInt32LE(200, 46); // claims 200 palette entries: runs past the end
    expectDecodeError(paletted, /palette missing/);
  });

  it.each([
    ['RLE8', (b: Buffer) => b.writeUInt32LE(1, 30), /RLE8-compressed/],
    ['embedded PNG', (b: Buffer) => b.writeUInt32LE(5, 30), /PNG-compressed/],
    ['16-bit', (b: Buffer) => b.writeUInt16LE(16, 28), /16-bit BMP is not supported/],
    ['OS/2 header', (b: Buffer) => b.writeUInt32LE(12, 14), /OS\/2/],
    ['header size 20', (b: Buffer) => b.writeUInt32LE(20, 14), /header size 20/],
    ['zero width', (b: Buffer) => b.writeInt32LE(0, 18), /size 0x/],
    ['negative width', (b: Buffer) => b.writeInt32LE(-4, 18), /size -4x/],
    ['two planes', (b: Buffer) => b.writeUInt16LE(2, 26), /planes/],
    ['absurd size', (b: Buffer) => (b.writeInt32LE(100_000, 18), b.writeInt32LE(100_000, 22)), /too large/],
    ['offset inside header', (b: Buffer) => b.writeUInt32LE(20, 10), /pixel data offset/],
  ])('rejects %s', (_name, corrupt, reason) => {
    const bmp = buildBmp({ width: 4, height: 4, bpp: 24, rgb: pattern(4, 4) });
    corrupt(bmp);
    expectDecodeError(bmp, reason);
  });

  it('rejects non-byte bit masks (16-bit style 5-6-5 on 32 bits)', () => {
    const bmp = buildBmp({ width: 2, height: 2, bpp: 32, rgb: pattern(2, 2), masks: [0xff0000, 0xff00, 0xff] });
    bmp.writeUInt32LE(0xf800, 54);
    expectDecodeError(bmp, /unsupported bit masks 0x0000f800/);
  });

  it('rejects a file without the BM signature', () => {
    expectDecodeError(Buffer.from('GIF89a.................................................................'), /not a BMP/);
    expect(isBmp(Buffer.from('BM'))).toBe(true);
    expect(isBmp(Buffer.from('B'))).toBe(false);
    expect(isBmp(Buffer.from([0xff, 0xd8, 0xff]))).toBe(false);
  });
});
