import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EmbeddedZipError, locateZip, readEmbeddedFiles } from '../../src/inference/model/embedded-files.js';

interface ZipInput {
  name: string;
  data: Buffer;
  deflate?: boolean;
}

/** A minimal zip writer; `base` is added to every offset (the prefix length for file-relative offsets). */
function makeZip(files: ZipInput[], base = 0, comment = ''): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const body = f.deflate ? deflateRawSync(f.data) : f.data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(f.deflate ? 8 : 0, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc32(f.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(f.deflate ? 8 : 0, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc32(f.data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(base + offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const commentBytes = Buffer.from(comment);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(base + offset, 16);
  eocd.writeUInt16LE(commentBytes.length, 20);
  return Buffer.concat([...locals, cd, eocd, commentBytes]);
}

const prefix = Buffer.alloc(1000, 0xab); // stands in for the flatbuffer
const labels = Buffer.from('person\nbicycle\ncar\n');
const big = Buffer.from('label line\n'.repeat(500));
const files: ZipInput[] = [
  { name: 'labels.txt', data: labels },
  { name: 'big.txt', data: big, deflate: true },
];

describe('embedded zip', () => {
  it('reads stored and deflated entries when offsets count from the start of the model file', async () => {
    const model = Buffer.concat([prefix, makeZip(files, prefix.length)]);
    expect(locateZip(model)).toEqual({ start: 0, entries: 2 });
    const out = await readEmbeddedFiles(model);
    expect([...out.keys()]).toEqual(['labels.txt', 'big.txt']);
    expect(out.get('labels.txt')!.equals(labels)).toBe(true);
    expect(out.get('big.txt')!.equals(big)).toBe(true);
  });

  it('reads entries when offsets count from the start of the zip (cat model zip)', async () => {
    const model = Buffer.concat([prefix, makeZip(files, 0, 'a comment')]);
    expect(locateZip(model)).toEqual({ start: prefix.length, entries: 2 });
    const out = await readEmbeddedFiles(model);
    expect(out.get('labels.txt')!.toString()).toBe('person\nbicycle\ncar\n');
    expect(out.get('big.txt')!.equals(big)).toBe(true);
  });

  it('gives an empty map for a model without a zip', async () => {
    expect(locateZip(prefix)).toBeUndefined();
    expect((await readEmbeddedFiles(prefix)).size).toBe(0);
    expect((await readEmbeddedFiles(Buffer.alloc(0))).size).toBe(0);
  });

  it('ignores an end-of-directory signature inside weights that does not end the file', async () => {
    const fake = Buffer.alloc(22);
    fake.writeUInt32LE(0x06054b50, 0);
    const model = Buffer.concat([prefix, fake, Buffer.alloc(100, 1)]);
    expect(locateZip(model)).toBeUndefined();
    expect((await readEmbeddedFiles(model)).size).toBe(0);
  });

  it('reports a damaged entry as EmbeddedZipError', async () => {
    const zip = makeZip(files, prefix.length);
    const model = Buffer.concat([prefix, zip]);
    // Corrupt the deflated body of big.txt (after labels.txt's local header, name and data, and big's header).
    const bigBody = prefix.length + 30 + 'labels.txt'.length + labels.length + 30 + 'big.txt'.length;
    model.fill(0xff, bigBody, bigBody + 8);
    await expect(readEmbeddedFiles(model)).rejects.toBeInstanceOf(EmbeddedZipError);
  });

  it('reports a central directory that points nowhere as EmbeddedZipError', async () => {
    const zip = makeZip(files, prefix.length + 5000); // offsets past the end of the buffer
    await expect(readEmbeddedFiles(Buffer.concat([prefix, zip]))).rejects.toBeInstanceOf(EmbeddedZipError);
  });
});
