import { ByteBuffer } from 'flatbuffers';

/**
 * Bounds-checked access to one flatbuffer table.
 *
 * The `flatbuffers` runtime reads past the end of its Uint8Array without complaint (undefined bytes become 0),
 * so a truncated model would decode into plausible garbage. Every offset is checked here before the runtime's
 * own helpers (__offset, __indirect, __vector, __vector_len, __string) are trusted with it.
 */
export class FlatbufferBoundsError extends Error {
  override name = 'FlatbufferBoundsError';
}

const UINT32 = 4;

function check(bb: ByteBuffer, start: number, length: number, what: string): void {
  if (!Number.isSafeInteger(start) || start < 0 || length < 0 || start + length > bb.capacity()) {
    throw new FlatbufferBoundsError(`${what} at byte ${start} (+${length}) lies outside the ${bb.capacity()}-byte buffer`);
  }
}

export class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly tableSize: number;

  private constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
    private readonly what: string,
  ) {
    check(bb, pos, UINT32, `${what} table`);
    this.vtable = pos - bb.readInt32(pos);
    check(bb, this.vtable, 4, `${what} vtable`);
    this.vtableSize = bb.readUint16(this.vtable);
    this.tableSize = bb.readUint16(this.vtable + 2);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) {
      throw new FlatbufferBoundsError(`${what} vtable at byte ${this.vtable} has an invalid size ${this.vtableSize}`);
    }
    check(bb, this.vtable, this.vtableSize, `${what} vtable`);
    check(bb, pos, this.tableSize, `${what} table`);
  }

  /** The root table; the caller has already checked the file identifier. */
  static root(bb: ByteBuffer, what: string): Table {
    check(bb, 0, 2 * UINT32, `${what} header`);
    return new Table(bb, bb.__indirect(bb.position()), what);
  }

  /** Position of field number `field` (0-based, in schema order; a union takes two), or 0 when absent. */
  private fieldPos(field: number, size: number): number {
    const vtableOffset = 4 + 2 * field;
    const offset = this.bb.__offset(this.pos, vtableOffset);
    if (offset === 0) return 0;
    // The runtime reads vtable entries as int16: a negative or too-large entry is damage, not a field.
    if (offset < 4 || offset + size > this.tableSize) {
      throw new FlatbufferBoundsError(`${this.what} field ${field} runs past the end of its table`);
    }
    return this.pos + offset;
  }

  has(field: number): boolean {
    return this.fieldPos(field, 1) !== 0;
  }

  int8(field: number, dflt = 0): number {
    const p = this.fieldPos(field, 1);
    return p ? this.bb.readInt8(p) : dflt;
  }

  uint8(field: number, dflt = 0): number {
    const p = this.fieldPos(field, 1);
    return p ? this.bb.readUint8(p) : dflt;
  }

  bool(field: number, dflt = false): boolean {
    const p = this.fieldPos(field, 1);
    return p ? this.bb.readUint8(p) !== 0 : dflt;
  }

  int32(field: number, dflt = 0): number {
    const p = this.fieldPos(field, 4);
    return p ? this.bb.readInt32(p) : dflt;
  }

  uint32(field: number, dflt = 0): number {
    const p = this.fieldPos(field, 4);
    return p ? this.bb.readUint32(p) : dflt;
  }

  /** ulong fields (Buffer.offset/size) as numbers; anything past 2^53 is corrupt for our purposes. */
  uint64(field: number, dflt = 0): number {
    const p = this.fieldPos(field, 8);
    if (!p) return dflt;
    const value = this.bb.readUint64(p);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FlatbufferBoundsError(`${this.what} field ${field} holds an impossible 64-bit value ${value}`);
    }
    return Number(value);
  }

  /** Follows the uoffset stored at `p` and checks the target lies in the buffer. */
  private target(p: number, size: number, what: string): number {
    check(this.bb, p, UINT32, what);
    const target = this.bb.__indirect(p);
    check(this.bb, target, size, what);
    return target;
  }

  table(field: number, what: string): Table | undefined {
    const p = this.fieldPos(field, UINT32);
    return p ? new Table(this.bb, this.target(p, UINT32, what), what) : undefined;
  }

  /** A union's value table; its type lives in the slot before it. */
  union(field: number, what: string): Table | undefined {
    return this.table(field, what);
  }

  /** Start and length of a vector of `elemSize`-byte elements, both checked; undefined when the field is absent. */
  vector(field: number, elemSize: number, what: string): { start: number; length: number } | undefined {
    const p = this.fieldPos(field, UINT32);
    if (!p) return undefined;
    this.target(p, UINT32, what); // the length word
    const length = this.bb.__vector_len(p);
    const start = this.bb.__vector(p);
    check(this.bb, start, length * elemSize, what);
    return { start, length };
  }

  vectorLength(field: number, what: string): number {
    return this.vector(field, UINT32, what)?.length ?? 0;
  }

  int32Vector(field: number, what: string): number[] {
    const v = this.vector(field, 4, what);
    const out: number[] = [];
    for (let i = 0; v && i < v.length; i++) out.push(this.bb.readInt32(v.start + 4 * i));
    return out;
  }

  float32Vector(field: number, what: string): number[] {
    const v = this.vector(field, 4, what);
    const out: number[] = [];
    for (let i = 0; v && i < v.length; i++) out.push(this.bb.readFloat32(v.start + 4 * i));
    return out;
  }

  /** long vectors (zero points) as numbers: real zero points are small. */
  int64Vector(field: number, what: string): number[] {
    const v = this.vector(field, 8, what);
    const out: number[] = [];
    for (let i = 0; v && i < v.length; i++) out.push(Number(this.bb.readInt64(v.start + 8 * i)));
    return out;
  }

  /** A [ubyte] vector as a view into the buffer (no copy). */
  bytes(field: number, what: string): Uint8Array | undefined {
    const v = this.vector(field, 1, what);
    return v ? this.bb.bytes().subarray(v.start, v.start + v.length) : undefined;
  }

  tables(field: number, what: string): Table[] {
    const v = this.vector(field, UINT32, what);
    const out: Table[] = [];
    for (let i = 0; v && i < v.length; i++) {
      out.push(new Table(this.bb, this.target(v.start + UINT32 * i, UINT32, what), what));
    }
    return out;
  }

  string(field: number, what: string): string | undefined {
    const p = this.fieldPos(field, UINT32);
    if (!p) return undefined;
    const s = this.target(p, UINT32, what);
    check(this.bb, s + UINT32, this.bb.readUint32(s), what);
    return this.bb.__string(p) as string;
  }

  strings(field: number, what: string): string[] {
    const v = this.vector(field, UINT32, what);
    const out: string[] = [];
    for (let i = 0; v && i < v.length; i++) {
      const p = v.start + UINT32 * i;
      const s = this.target(p, UINT32, what);
      check(this.bb, s + UINT32, this.bb.readUint32(s), what);
      out.push(this.bb.__string(p) as string);
    }
    return out;
  }
}
