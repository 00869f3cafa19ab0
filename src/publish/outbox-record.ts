import zlib from 'node:zlib';

/** One message as the publisher hands it over; the outbox stores and returns it unchanged. */
export interface OutboxMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface StoredRecord {
  id: number;
  msg: OutboxMessage;
}

/*
 * On-disk record: [u32 bodyLength][u32 crc32(body)][body], little-endian.
 * Body: [u48 id][u8 flags: qos in bits 0-1, retain in bit 2][u16 topicLength][topic utf8][payload].
 * The length + CRC pair is what lets a reader tell a torn or zero-filled stretch (SIGKILL mid-write is not possible
 * with one write(2), but power loss and a failing card are) from a real record, and find the next real record after it:
 * a position is taken for a record only if its length fits, its flags and topic are well formed, its id is above the
 * last good one (ids ascend within a segment) and the CRC-32 of the claimed body matches. A magic number would only
 * make that scan faster, at the price of a second format to read; damage is rare and the scan is cheap (see decode).
 */
export const HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 6 + 1 + 2;
/** Far above any detection payload; a larger length field is corruption, not data. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_TOPIC_BYTES = 0xffff;

/** Table-based CRC-32 (IEEE, as zlib): the fallback for Node releases before 20.15, which lack zlib.crc32. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function tableCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
export const crc32: (data: Uint8Array) => number = nativeCrc32 ? (d) => nativeCrc32(d) : tableCrc32;

/** Bytes the message counts against the outbox's byte limit (what it costs in memory, roughly). */
export function messageBytes(msg: OutboxMessage): number {
  return Buffer.byteLength(msg.topic) + msg.payload.length;
}

export function encodeRecord(id: number, msg: OutboxMessage): Buffer {
  const topic = Buffer.from(msg.topic, 'utf8');
  if (topic.length > MAX_TOPIC_BYTES) throw new RangeError(`MQTT topic longer than ${MAX_TOPIC_BYTES} bytes`);
  const bodyLength = BODY_FIXED_BYTES + topic.length + msg.payload.length;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + bodyLength);
  let o = HEADER_BYTES;
  o = buf.writeUIntLE(id, o, 6);
  o = buf.writeUInt8((msg.qos & 3) | (msg.retain ? 4 : 0), o);
  o = buf.writeUInt16LE(topic.length, o);
  o += topic.copy(buf, o);
  msg.payload.copy(buf, o);
  buf.writeUInt32LE(bodyLength, 0);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER_BYTES)), 4);
  return buf;
}

/** A stretch of a segment that holds no readable record. */
export interface Damage {
  offset: number;
  bytes: number;
  /** Why the record at `offset` was not taken. */
  problem: string;
  /** Ids of the whole records just before and just after it, when there are some. */
  prevId?: number;
  nextId?: number;
}

export interface DecodeResult {
  records: (StoredRecord & { bytes: number })[];
  /** In file order; the last one may run to the end (a torn or zero-filled tail). */
  damage: Damage[];
}

/**
 * Bytes checksummed while looking for the next good record, per byte of the segment: random bytes seldom pass the
 * cheaper checks, so this only bounds the work on a pathological segment (the rest of it then counts as damage).
 */
const RESYNC_CRC_BUDGET = 16;

/** Reads every whole record; a damaged stretch is skipped up to the next whole record and reported. */
export function decodeRecords(buf: Buffer): DecodeResult {
  const records: DecodeResult['records'] = [];
  const damage: Damage[] = [];
  const budget = { bytes: RESYNC_CRC_BUDGET * buf.length + (1 << 20) };
  let o = 0;
  let prevId: number | undefined;
  while (o < buf.length) {
    const at = readRecord(buf, o);
    if (typeof at !== 'string') {
      records.push(at);
      prevId = at.id;
      o += at.bytes;
      continue;
    }
    let next = o + 1;
    let found = false;
    while (next < buf.length && budget.bytes > 0) {
      if ((found = isResyncPoint(buf, next, prevId ?? -1, budget))) break;
      next++;
    }
    if (!found) next = buf.length;
    const d: Damage = { offset: o, bytes: next - o, problem: at };
    if (prevId !== undefined) d.prevId = prevId;
    if (next < buf.length) d.nextId = buf.readUIntLE(next + HEADER_BYTES, 6);
    damage.push(d);
    o = next;
  }
  return { records, damage };
}

/** The record at `o`, or why there is none. */
function readRecord(buf: Buffer, o: number): DecodeResult['records'][number] | string {
  if (buf.length - o < HEADER_BYTES) return `incomplete header (${buf.length - o} bytes)`;
  const bodyLength = buf.readUInt32LE(o);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES) return `impossible record length ${bodyLength}`;
  const start = o + HEADER_BYTES;
  if (buf.length - start < bodyLength) return `incomplete record (${buf.length - start} of ${bodyLength} bytes)`;
  const body = buf.subarray(start, start + bodyLength);
  if (crc32(body) !== buf.readUInt32LE(o + 4)) return 'CRC mismatch';
  const flags = body.readUInt8(6);
  const qos = flags & 3;
  const topicEnd = BODY_FIXED_BYTES + body.readUInt16LE(7);
  if (qos === 3 || topicEnd > bodyLength) return 'malformed record';
  return {
    id: body.readUIntLE(0, 6),
    bytes: HEADER_BYTES + bodyLength,
    msg: {
      topic: body.toString('utf8', BODY_FIXED_BYTES, topicEnd),
      // A copy: the file buffer is dropped after loading, the message lives on in the outbox.
      payload: Buffer.from(body.subarray(topicEnd)),
      qos: qos as 0 | 1 | 2,
      retain: (flags & 4) !== 0,
    },
  };
}

/**
 * Whether a whole record starts at `o`, judged strictly: ids ascend within a segment (so it must be above `prevId`),
 * and a topic this daemon publishes is not empty and has no NUL or wildcard. The cheap checks come first: this runs at
 * every byte of a damaged stretch, and only a candidate that passes them all costs a CRC.
 */
function isResyncPoint(buf: Buffer, o: number, prevId: number, budget: { bytes: number }): boolean {
  const start = o + HEADER_BYTES;
  if (buf.length - start < BODY_FIXED_BYTES) return false;
  const bodyLength = buf.readUInt32LE(o);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > buf.length - start) return false;
  const flags = buf[start + 6]!;
  const topicLength = buf.readUInt16LE(start + 7);
  if ((flags & ~7) !== 0 || (flags & 3) === 3 || topicLength === 0 || BODY_FIXED_BYTES + topicLength > bodyLength) return false;
  if (buf.readUIntLE(start, 6) <= prevId) return false;
  const topicStart = start + BODY_FIXED_BYTES;
  for (let i = topicStart; i < topicStart + topicLength; i++) {
    const c = buf[i]!;
    if (c === 0 || c === 0x23 || c === 0x2b) return false;
  }
  budget.bytes -= bodyLength;
  return crc32(buf.subarray(start, start + bodyLength)) === buf.readUInt32LE(o + 4);
}
