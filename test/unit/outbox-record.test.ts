import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeAcks, isSettled, parseAcks } from '../../src/publish/outbox-acks.js';
import { crc32, decodeRecords, encodeRecord, HEADER_BYTES, tableCrc32, type OutboxMessage } from '../../src/publish/outbox-record.js';

const msg = (n: number, extra: Partial<OutboxMessage> = {}): OutboxMessage => ({
  topic: `cams/front/${n}`,
  payload: Buffer.from(JSON.stringify({ n, label: 'person' })),
  qos: 1,
  retain: false,
  ...extra,
});

describe('outbox records', () => {
  it('the table CRC-32 matches zlib (the fallback for Node before 20.15 computes the same checksums)', () => {
    const samples = [Buffer.alloc(0), Buffer.from('123456789'), Buffer.from([0, 255, 1, 254]), Buffer.alloc(5000, 0xa5)];
    expect(tableCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (const s of samples) {
      expect(tableCrc32(s)).toBe(crc32(s));
      if (typeof zlib.crc32 === 'function') expect(tableCrc32(s)).toBe(zlib.crc32(s));
    }
  });

  it('round-trips id, topic (utf-8), payload, qos and retain', () => {
    const msgs = [msg(1), msg(2, { qos: 0, retain: true, topic: 'caméra/ü' }), msg(3, { qos: 2, payload: Buffer.alloc(0) })];
    const buf = Buffer.concat(msgs.map((m, i) => encodeRecord(2 ** 40 + i, m)));
    const out = decodeRecords(buf);
    expect(out.problem).toBeUndefined();
    expect(out.validBytes).toBe(buf.length);
    expect(out.records.map((r) => r.id)).toEqual([2 ** 40, 2 ** 40 + 1, 2 ** 40 + 2]);
    expect(out.records.map((r) => r.msg)).toEqual(msgs);
  });

  it('stops at a torn tail, at a zero-filled tail and at a flipped bit, keeping the whole records before it', () => {
    const a = encodeRecord(1, msg(1));
    const b = encodeRecord(2, msg(2));
    for (const cut of [1, HEADER_BYTES - 1, HEADER_BYTES + 3, b.length - 1]) {
      const out = decodeRecords(Buffer.concat([a, b.subarray(0, cut)]));
      expect(out.records.map((r) => r.id)).toEqual([1]);
      expect(out.validBytes).toBe(a.length);
      expect(out.problem).toMatch(/incomplete/);
    }
    const zeros = decodeRecords(Buffer.concat([a, Buffer.alloc(4096)]));
    expect(zeros.records).toHaveLength(1);
    expect(zeros.problem).toMatch(/impossible record length 0/);
    const flipped = Buffer.from(b);
    flipped[flipped.length - 2]! ^= 0x10;
    const bad = decodeRecords(Buffer.concat([a, flipped, encodeRecord(3, msg(3))]));
    expect(bad.records.map((r) => r.id)).toEqual([1]);
    expect(bad.problem).toBe('CRC mismatch');
  });
});

describe('outbox ack file', () => {
  it('encodes the unsettled ids as ranges and answers isSettled from them', () => {
    const text = encodeAcks(20, [3, 4, 5, 9, 12, 13]);
    expect(JSON.parse(text)).toEqual({ v: 1, high: 20, unsettled: [[3, 5], [9, 9], [12, 13]] });
    const state = parseAcks(text);
    const settled = Array.from({ length: 25 }, (_, i) => i + 1).filter((id) => isSettled(state, id));
    expect(settled).toEqual([1, 2, 6, 7, 8, 10, 11, 14, 15, 16, 17, 18, 19, 20]);
    expect(isSettled(null, 1)).toBe(false);
  });

  it('rejects a file it did not write', () => {
    for (const bad of ['', '{}', '{"v":1,"high":3,"unsettled":[[5,4]]}', '{"v":1,"high":3,"unsettled":[[1,2],[2,3]]}', '{"v":2,"high":1,"unsettled":[]}']) {
      expect(() => parseAcks(bad)).toThrow();
    }
  });
});
