/**
 * The binary wire for frames and results between the daemon and its inference host: a pipe each way, length-prefixed
 * records, the pixels copied once into the pipe and once into the input tensor. (Node's IPC channel serialises every
 * byte through V8's serializer: 3 ms per 300x300 frame, measured, against ~0.3 ms this way.)
 *
 * request: u32 id | u32 length | length bytes (packed RGB at the model's input size)
 * reply:   u32 id | u8 kind (0 result, 1 error) | f64 inferenceMs | f64 cpuMs | u32 count | count x (u8 type | u32 bytes | bytes)
 *          (inferenceMs: the invoke's wall time; cpuMs: the host's CPU time during it, all its threads)
 *          for errors: u32 id | u8 1 | u32 bytes | utf-8 message
 */
export type OutputArray = Float32Array | Uint8Array | Int8Array | Int32Array;

const TYPES = [Float32Array, Uint8Array, Int8Array, Int32Array] as const;

export function typeCode(a: OutputArray): number {
  return TYPES.findIndex((T) => a instanceof T);
}

export function encodeRequestHeader(id: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32LE(id, 0);
  h.writeUInt32LE(length, 4);
  return h;
}

/** Bytes before a result's outputs: id, kind, inferenceMs, cpuMs, count. */
const RESULT_HEAD = 25;

export function encodeResult(id: number, inferenceMs: number, cpuMs: number, outputs: OutputArray[]): Buffer {
  const size = RESULT_HEAD + outputs.reduce((n, o) => n + 5 + o.byteLength, 0);
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(id, 0);
  b.writeUInt8(0, 4);
  b.writeDoubleLE(inferenceMs, 5);
  b.writeDoubleLE(cpuMs, 13);
  b.writeUInt32LE(outputs.length, 21);
  let at = RESULT_HEAD;
  for (const o of outputs) {
    b.writeUInt8(typeCode(o), at);
    b.writeUInt32LE(o.byteLength, at + 1);
    b.set(new Uint8Array(o.buffer, o.byteOffset, o.byteLength), at + 5);
    at += 5 + o.byteLength;
  }
  return b;
}

export function encodeError(id: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const b = Buffer.allocUnsafe(9 + text.length);
  b.writeUInt32LE(id, 0);
  b.writeUInt8(1, 4);
  b.writeUInt32LE(text.length, 5);
  text.copy(b, 9);
  return b;
}

export type Reply = { id: number; ok: true; inferenceMs: number; cpuMs: number; outputs: OutputArray[] } | { id: number; ok: false; message: string };

/**
 * Accumulates chunks from a stream and yields whole records. `need` says how many bytes the next record has, from
 * its header, or undefined while the header itself is incomplete.
 */
export class RecordReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  get length(): number {
    return this.buffered;
  }

  /** The first `n` buffered bytes as one Buffer (copied only when they span chunks); undefined if fewer are buffered. */
  peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        n -= first.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

/** Parses the next whole reply, or returns undefined until more bytes arrive. */
export function readReply(r: RecordReader): Reply | undefined {
  const head = r.peek(9);
  if (!head) return undefined;
  const id = head.readUInt32LE(0);
  if (head.readUInt8(4) === 1) {
    const len = head.readUInt32LE(5);
    const all = r.peek(9 + len);
    if (!all) return undefined;
    const message = all.toString('utf8', 9, 9 + len);
    r.skip(9 + len);
    return { id, ok: false, message };
  }
  const fixed = r.peek(RESULT_HEAD);
  if (!fixed) return undefined;
  const count = fixed.readUInt32LE(21);
  // Walk the output headers to find the record's length before taking it.
  let size = RESULT_HEAD;
  for (let i = 0; i < count; i++) {
    const h = r.peek(size + 5);
    if (!h) return undefined;
    size += 5 + h.readUInt32LE(size + 1);
  }
  const all = r.peek(size);
  if (!all) return undefined;
  const inferenceMs = all.readDoubleLE(5);
  const cpuMs = all.readDoubleLE(13);
  const outputs: OutputArray[] = [];
  let at = RESULT_HEAD;
  for (let i = 0; i < count; i++) {
    const T = TYPES[all.readUInt8(at)] ?? Uint8Array;
    const bytes = all.readUInt32LE(at + 1);
    // A fresh, aligned buffer per output: typed arrays need it, and outputs are small.
    const copy = new Uint8Array(bytes);
    copy.set(all.subarray(at + 5, at + 5 + bytes));
    outputs.push(new T(copy.buffer, 0, bytes / T.BYTES_PER_ELEMENT));
    at += 5 + bytes;
  }
  r.skip(size);
  return { id, ok: true, inferenceMs, cpuMs, outputs };
}
