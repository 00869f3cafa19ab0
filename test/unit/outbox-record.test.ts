import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { countUnsettled, encodeAcks, isSettled, parseAcks } from '../../src/publish/outbox-acks.js';
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
    expect(out.damage).toEqual([]);
    expect(out.records.map((r) => r.id)).toEqual([2 ** 40, 2 ** 40 + 1, 2 ** 40 + 2]);
    expect(out.records.map((r) => r.msg)).toEqual(msgs);
  });

  it('a torn or zero-filled tail is damage up to the end, after the whole records before it', () => {
    const a = encodeRecord(1, msg(1));
    const b = encodeRecord(2, msg(2));
    for (const cut of [1, HEADER_BYTES - 1, HEADER_BYTES + 3, b.length - 1]) {
      const buf = Buffer.concat([a, b.subarray(0, cut)]);
      const out = decodeRecords(buf);
      expect(out.records.map((r) => r.id)).toEqual([1]);
      expect(out.damage).toEqual([{ offset: a.length, bytes: cut, problem: expect.stringMatching(/incomplete/), prevId: 1 }]);
    }
    const zeros = decodeRecords(Buffer.concat([a, Buffer.alloc(4096)]));
    expect(zeros.records).toHaveLength(1);
    expect(zeros.damage).toEqual([{ offset: a.length, bytes: 4096, problem: 'impossible record length 0', prevId: 1 }]);
  });

  it('skips only a damaged record and goes on with the next whole one: a flipped bit, a flipped length, a run of zeros', () => {
    const recs = [1, 2, 3, 4, 5].map((i) => encodeRecord(i, msg(i)));
    const at = (i: number): number => recs.slice(0, i).reduce((s, r) => s + r.length, 0);
    const flip = (i: number, byte: number): Buffer => {
      const buf = Buffer.concat(recs);
      buf[at(i) + byte]! ^= 0x10;
      return buf;
    };
    const body = decodeRecords(flip(2, recs[2]!.length - 2));
    expect(body.records.map((r) => r.id)).toEqual([1, 2, 4, 5]);
    expect(body.records.map((r) => r.msg)).toEqual([1, 2, 4, 5].map((i) => msg(i)));
    expect(body.damage).toEqual([{ offset: at(2), bytes: recs[2]!.length, problem: 'CRC mismatch', prevId: 2, nextId: 4 }]);

    for (const byte of [0, 1, 3]) {
      const length = decodeRecords(flip(0, byte));
      expect(length.records.map((r) => r.id)).toEqual([2, 3, 4, 5]);
      expect(length.damage).toMatchObject([{ offset: 0, bytes: recs[0]!.length, nextId: 2 }]);
    }

    const zeroed = Buffer.concat(recs);
    zeroed.fill(0, at(1) + 3, at(3) - 2); // from inside record 2 to inside record 3
    const zeros = decodeRecords(zeroed);
    expect(zeros.records.map((r) => r.id)).toEqual([1, 4, 5]);
    expect(zeros.damage).toEqual([{ offset: at(1), bytes: at(3) - at(1), problem: expect.any(String), prevId: 1, nextId: 4 }]);
  });
});

describe('outbox records, pathological damage', () => {
  it('a stretch of random bytes is one damage up to the next whole record, however long', () => {
    const garbage = crypto.randomBytes(1 << 20);
    const out = decodeRecords(Buffer.concat([encodeRecord(1, msg(1)), garbage, encodeRecord(2, msg(2))]));
    expect(out.records.map((r) => r.id)).toEqual([1, 2]);
    expect(out.damage).toMatchObject([{ bytes: garbage.length, prevId: 1, nextId: 2 }]);
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

  it('counts the unsettled ids strictly between two ids (what a damaged stretch of a segment cost)', () => {
    const state = parseAcks(encodeAcks(20, [3, 4, 5, 9, 12, 13]));
    expect(countUnsettled(state, 2, 10)).toBe(4); // 3, 4, 5, 9
    expect(countUnsettled(state, 18, 25)).toBe(4); // 21..24: above high, never settled
    expect(countUnsettled(state, 5, 6)).toBe(0);
    expect(countUnsettled(null, 2, 10)).toBe(7);
  });

  it('rejects a file it did not write', () => {
    for (const bad of ['', '{}', '{"v":1,"high":3,"unsettled":[[5,4]]}', '{"v":1,"high":3,"unsettled":[[1,2],[2,3]]}', '{"v":2,"high":1,"unsettled":[]}']) {
      expect(() => parseAcks(bad)).toThrow();
    }
  });
});
