import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../system/paths.js';
import type { I420Resizer } from './i420-resize.js';
import { BU, GU, GV, RV } from './i420-rgb.js';

/**
 * Camera frames kept where the WebAssembly resize kernel (wasm/i420-rgb.as.ts) can read them: a FrameBufferPool
 * with an arena lends buffers that are views of one WebAssembly memory, the camera writes each frame straight into
 * one, and I420Resizer.convert runs the kernel on it in place (2-3x faster than the JavaScript loop, same bytes).
 * A frame anywhere else (the arena's slots all lent, no kernel) is resized in JavaScript, as before.
 *
 * The memory never grows (growing would detach every view lent out): its size is fixed when it is made, and untouched
 * pages cost no RAM. Layout: colour tables | the resizers' tap tables | scratch | the output picture | frame slots.
 */
const LUT_AT = 0;
const TABLES_AT = 4096;
const SCRATCH_AT = 64 * 1024;
const SCRATCH_BYTES = 64 * 1024;
const OUT_AT = SCRATCH_AT + SCRATCH_BYTES;
/** The largest model input resized in place: 640x640 RGB (larger ones are resized in JavaScript). */
const OUT_BYTES = 640 * 640 * 3;
const FRAMES_AT = OUT_AT + OUT_BYTES;
/** Past the last frame: the kernel's eight-column reads of a row's end never leave the memory. */
const TAIL_PAD = 64;
const PAGE = 65536;

/** What this file uses of the WebAssembly API (Node has it; the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number }) => WasmMemory;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernel {
  convert(
    src: number, yStride: number, uvStride: number, uOff: number, vOff: number, tab: number, lut: number,
    dx: number, dy: number, dw: number, dh: number, out: number, width: number, sx0: number, sx1: number, scratch: number,
  ): void;
  scratchBytes(srcEnd: number, dw: number): number;
}

/** The compiled kernel, or why there is none (the daemon logs it once at start: resizing then costs more CPU). */
let compiled: { module: object } | { problem: string } | undefined;

/** Where `npm run build:wasm` writes the kernel. */
export const KERNEL_PATH = join(packageRoot(), 'dist', 'pixels', 'wasm', 'i420-rgb.wasm');

function kernelModule(): object | undefined {
  if (!compiled) {
    try {
      compiled = { module: new wasm.Module(readFileSync(KERNEL_PATH)) };
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not built (npm run build)' : (err as Error).message;
      compiled = { problem: `${KERNEL_PATH}: ${reason}` };
    }
  }
  return 'module' in compiled ? compiled.module : undefined;
}

/** Why frames are resized in JavaScript rather than by the WebAssembly kernel; undefined when the kernel is there. */
export function resizeKernelProblem(): string | undefined {
  kernelModule();
  return compiled && 'problem' in compiled ? compiled.problem : undefined;
}

const arenas = new WeakMap<ArrayBufferLike, PixelArena>();

/** The arena a buffer lives in, if it is one of an arena's frame slots. */
export function arenaOf(buf: Uint8Array): PixelArena | undefined {
  return arenas.get(buf.buffer);
}

export class PixelArena {
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  private readonly free: number[] = [];
  private readonly slotBytes: number;
  /** Where each resizer's tap tables were written (rewritten after the table area fills up and starts over). */
  private tables = new WeakMap<I420Resizer, number>();
  private tablesEnd = TABLES_AT;

  /** An arena of `slots` frames of `frameSize` bytes; undefined when the kernel is not available. */
  static create(frameSize: number, slots: number): PixelArena | undefined {
    const module = kernelModule();
    if (!module) return undefined;
    const slotBytes = Math.ceil(frameSize / 64) * 64;
    const memory = new wasm.Memory({ initial: Math.ceil((FRAMES_AT + slots * slotBytes + TAIL_PAD) / PAGE) });
    const instance = new wasm.Instance(module, { env: { memory, abort: () => undefined } });
    return new PixelArena(memory, instance.exports as unknown as Kernel, frameSize, slots, slotBytes);
  }

  private constructor(
    memory: WasmMemory,
    private readonly kernel: Kernel,
    readonly frameSize: number,
    readonly slots: number,
    slotBytes: number,
  ) {
    this.slotBytes = slotBytes;
    this.bytes = new Uint8Array(memory.buffer);
    this.words = new Int32Array(memory.buffer);
    const lut = [Int32Array.from(RV, (x) => (x + 128) >> 8), Int32Array.from(BU, (x) => (x + 128) >> 8), GU, GV];
    lut.forEach((t, i) => this.words.set(t, LUT_AT / 4 + 256 * i));
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
    arenas.set(memory.buffer, this);
  }

  /** A free slot as a Buffer of frameSize bytes, or undefined when all are lent. */
  take(): Buffer | undefined {
    const i = this.free.pop();
    return i === undefined ? undefined : Buffer.from(this.bytes.buffer, FRAMES_AT + i * this.slotBytes, this.frameSize);
  }

  /** Gives a slot back (a buffer from take()); anything else is ignored. */
  give(buf: Uint8Array): void {
    if (buf.buffer !== this.bytes.buffer) return;
    const i = (buf.byteOffset - FRAMES_AT) / this.slotBytes;
    if (Number.isInteger(i) && i >= 0 && i < this.slots && !this.free.includes(i)) this.free.push(i);
  }

  /** Slots not lent out (tests, diagnostics). */
  get available(): number {
    return this.free.length;
  }

  /**
   * Runs `resizer` on `src` (a frame in this arena) into `out`, with the kernel; false when the kernel cannot (the
   * frame is not in a slot, or the output or a row is larger than the arena's areas): the caller resizes in JavaScript.
   */
  convert(resizer: I420Resizer, src: Uint8Array, out: Uint8Array): boolean {
    if (src.buffer !== this.bytes.buffer || src.byteOffset < FRAMES_AT) return false;
    const { width, height, layout } = resizer;
    const { src: s, dst } = resizer.plan;
    const outBytes = width * height * 3;
    if (outBytes > OUT_BYTES || this.kernel.scratchBytes(s.x + s.w, dst.w) > SCRATCH_BYTES) return false;
    const tab = this.tablesOf(resizer);
    if (tab === undefined) return false;
    const bars = dst.w !== width || dst.h !== height;
    if (bars) this.bytes.fill(0, OUT_AT, OUT_AT + outBytes);
    this.kernel.convert(src.byteOffset, layout.yStride, layout.uvStride, layout.uOffset, layout.vOffset, tab, LUT_AT, dst.x, dst.y, dst.w, dst.h, OUT_AT, width, s.x, s.x + s.w, SCRATCH_AT);
    out.set(this.bytes.subarray(OUT_AT, OUT_AT + outBytes));
    return true;
  }

  /** The offset of the resizer's tables, written on first use; undefined if they could never fit. */
  private tablesOf(resizer: I420Resizer): number | undefined {
    const known = this.tables.get(resizer);
    if (known !== undefined) return known;
    const parts = resizer.kernelTables();
    const bytes = parts.reduce((n, t) => n + t.length * 4, 0);
    if (bytes > SCRATCH_AT - TABLES_AT) return undefined;
    if (this.tablesEnd + bytes > SCRATCH_AT) {
      // Full (crops make a resizer per call): start over; every resizer writes its tables again when next used.
      this.tables = new WeakMap();
      this.tablesEnd = TABLES_AT;
    }
    const at = this.tablesEnd;
    let word = at / 4;
    for (const t of parts) {
      this.words.set(t, word);
      word += t.length;
    }
    this.tablesEnd = at + bytes;
    this.tables.set(resizer, at);
    return at;
  }
}
