import { describe, expect, it } from 'vitest';
import { encodeError, encodeResult, readReply, RecordReader } from '../../src/inference/host/frames-wire.js';

/** Feeds `buf` to a reader in chunks of the given sizes, as a pipe would. */
function chunked(buf: Buffer, sizes: number[]): RecordReader {
  const r = new RecordReader();
  let at = 0;
  for (const n of sizes) {
    r.push(buf.subarray(at, Math.min(buf.length, at + n)));
    at += n;
  }
  if (at < buf.length) r.push(buf.subarray(at));
  return r;
}

describe('the frames wire', () => {
  const outputs = [new Float32Array([0.5, -1.25, 3]), new Uint8Array([1, 2, 255]), new Int32Array([7, -8])];

  it('round-trips results with their types, whatever the chunking', () => {
    const buf = Buffer.concat([encodeResult(7, 12.5, 11.75, outputs), encodeError(8, 'boom: ünïcode'), encodeResult(9, 1, 0.5, [])]);
    for (const sizes of [[buf.length], [1, 1, 1, 2, 3, 5, 8, 13], [16, 3, 40]]) {
      const r = chunked(buf, sizes);
      const a = readReply(r)!;
      expect(a).toMatchObject({ id: 7, ok: true, inferenceMs: 12.5, cpuMs: 11.75 });
      const outs = (a as { outputs: unknown[] }).outputs;
      expect(outs[0]).toBeInstanceOf(Float32Array);
      expect(Array.from(outs[0] as Float32Array)).toEqual([0.5, -1.25, 3]);
      expect(Array.from(outs[1] as Uint8Array)).toEqual([1, 2, 255]);
      expect(Array.from(outs[2] as Int32Array)).toEqual([7, -8]);
      expect(readReply(r)).toEqual({ id: 8, ok: false, message: 'boom: ünïcode' });
      expect(readReply(r)).toMatchObject({ id: 9, ok: true, cpuMs: 0.5, outputs: [] });
      expect(readReply(r)).toBeUndefined();
      expect(r.length).toBe(0);
    }
  });

  it('waits for a record that is not complete yet', () => {
    const buf = encodeResult(1, 2, 1.5, outputs);
    const r = new RecordReader();
    r.push(buf.subarray(0, buf.length - 1));
    expect(readReply(r)).toBeUndefined();
    r.push(buf.subarray(buf.length - 1));
    expect(readReply(r)).toMatchObject({ id: 1, ok: true });
  });
});
