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
 * The length + CRC pair is what lets a reader tell a torn or zero-filled tail (SIGKILL mid-write is not possible with one
 * write(2), but power loss is) from a real record, so garbage is truncated instead of replayed.
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

export interface DecodeResult {
  records: (StoredRecord & { bytes: number })[];
  /** Bytes from the start that hold whole, valid records; past it is a torn or corrupt tail. */
  validBytes: number;
  /** Why decoding stopped before the end, when it did. */
  problem?: string;
}

/** Reads records until the end or the first one that is incomplete or fails its CRC (nothing after it is trusted). */
export function decodeRecords(buf: Buffer): DecodeResult {
  const records: DecodeResult['records'] = [];
  let o = 0;
  const stop = (problem: string): DecodeResult => ({ records, validBytes: o, problem });
  while (o < buf.length) {
    if (buf.length - o < HEADER_BYTES) return stop(`incomplete header (${buf.length - o} bytes)`);
    const bodyLength = buf.readUInt32LE(o);
    if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES) return stop(`impossible record length ${bodyLength}`);
    const start = o + HEADER_BYTES;
    if (buf.length - start < bodyLength) return stop(`incomplete record (${buf.length - start} of ${bodyLength} bytes)`);
    const body = buf.subarray(start, start + bodyLength);
    if (crc32(body) !== buf.readUInt32LE(o + 4)) return stop('CRC mismatch');
    const id = body.readUIntLE(0, 6);
    const flags = body.readUInt8(6);
    const topicLength = body.readUInt16LE(7);
    const qos = flags & 3;
    if (qos === 3 || BODY_FIXED_BYTES + topicLength > bodyLength) return stop('malformed record');
    const topicEnd = BODY_FIXED_BYTES + topicLength;
    records.push({
      id,
      bytes: HEADER_BYTES + bodyLength,
      msg: {
        topic: body.toString('utf8', BODY_FIXED_BYTES, topicEnd),
        // A copy: the file buffer is dropped after loading, the message lives on in the outbox.
        payload: Buffer.from(body.subarray(topicEnd)),
        qos: qos as 0 | 1 | 2,
        retain: (flags & 4) !== 0,
      },
    });
    o = start + bodyLength;
  }
  return { records, validBytes: o };
}
