import { Socket } from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';

/**
 * The inference host's frame readers. Small frames (a Coral-sized model's) are read on the main thread, between
 * inferences (readFramesOnMainThread, at the end of this file). Large ones use this one:
 *
 * a worker thread that reads request records from the frames pipe with blocking
 * reads while the host's main thread is inside `infer()`. So the next frame is whole in memory the moment an
 * inference ends, instead of being read then, chunk by chunk, each chunk waiting for the daemon's event loop to write
 * the next one (a 300x300 frame is larger than the socket buffer). Measured with the SSD in `bench`: what a frame
 * costs beyond the runtime went from ~1.3 ms to ~0.5 ms.
 *
 * Buffers go back and forth without copies: the worker transfers each frame's ArrayBuffer to the main thread, which
 * transfers it back on a second port once the pixels are in the input tensor; the worker reuses it.
 *
 * The worker is plain JavaScript run with `eval`: a worker cannot load a TypeScript file under the test runner's
 * loader, and the reader is small enough to read here.
 */
const READER_JS = `
const { readSync } = require('node:fs');
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const { fd, recycle } = workerData;
const spare = [];
const header = new Uint8Array(8);
const view = new DataView(header.buffer);

// Fills 'into' from the pipe; false at end of file before the first byte (the daemon closed it).
function readFully(into) {
  let at = 0;
  while (at < into.length) {
    const n = readSync(fd, into, at, into.length - at, null);
    if (n === 0) {
      if (at === 0) return false;
      throw new Error('frames pipe closed in the middle of a record');
    }
    at += n;
  }
  return true;
}

// A buffer of at least 'length' bytes: one the main thread gave back, else a new one.
function bufferFor(length) {
  for (let m = receiveMessageOnPort(recycle); m; m = receiveMessageOnPort(recycle)) spare.push(m.message);
  const i = spare.findIndex((b) => b.byteLength >= length);
  if (i >= 0) return spare.splice(i, 1)[0];
  if (spare.length > 3) spare.shift();
  return new ArrayBuffer(length);
}

try {
  while (readFully(header)) {
    const id = view.getUint32(0, true);
    const length = view.getUint32(4, true);
    const buffer = bufferFor(length);
    readFully(new Uint8Array(buffer, 0, length));
    parentPort.postMessage({ id, length, buffer }, [buffer]);
  }
  parentPort.postMessage({ end: 'eof' });
} catch (err) {
  parentPort.postMessage({ end: 'error', message: err && err.message ? err.message : String(err) });
}
`;

export interface FrameRecord {
  id: number;
  /** The frame's bytes (a view of a buffer that goes back to the reader after `done`). */
  data: Uint8Array;
}

export interface FrameReaderHandlers {
  frame(record: FrameRecord): void;
  /**
   * No frame will come any more: `closed` when the daemon closed the pipe (it is stopping this host, or gone), else the
   * pipe could not be read and `reason` says why.
   */
  end(reason: string, closed: boolean): void;
}

/**
 * Starts the reader on `fd` (a blocking descriptor: the child's end of the pipe as Node creates it). `frame` is called
 * for each record, in order; the record's buffer is reused once `frame` returns, so copy what must outlive it.
 */
export function startFrameReader(fd: number, handlers: FrameReaderHandlers): Worker {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(READER_JS, { eval: true, workerData: { fd, recycle: port2 }, transferList: [port2] });
  worker.on('message', (msg: { id: number; length: number; buffer: ArrayBuffer } | { end: string; message?: string }) => {
    if ('end' in msg) {
      if (msg.end === 'eof') handlers.end('frames pipe closed', true);
      else handlers.end(`frames pipe unreadable: ${msg.message}`, false);
      return;
    }
    try {
      handlers.frame({ id: msg.id, data: new Uint8Array(msg.buffer, 0, msg.length) });
    } finally {
      port1.postMessage(msg.buffer, [msg.buffer]);
    }
  });
  worker.on('error', (err) => handlers.end(`frame reader failed: ${err.message}`, false));
  return worker;
}

/**
 * Frames this small are read on the host's main thread instead (readFramesOnMainThread): two of them fit in the
 * socket's buffer, so the daemon's write completes at once while the host is busy inferring, and the host finds the
 * next frame there when it comes back to its event loop, with no thread to wake. (The reader thread's wake-up and its
 * message to the main thread cost ~0.05 ms of CPU a frame on a VM: what a Coral-sized model makes worth saving.)
 * Larger frames (the SSD's 270 KB) would be written in pieces, each waiting for the host to come back from an
 * inference: they keep the reader thread.
 */
export const MAIN_THREAD_FRAME_BYTES = 96 * 1024;

/**
 * Reads request records from `fd` on this thread, through the event loop. `frame` is called for each record, in
 * order, with a view that is valid only until it returns. Nothing is allocated per frame: the socket reads into one
 * buffer (`onread`) and records are assembled in another, reused (a 64 KB allocation per read made the host's RSS
 * grow by 15-20 MB between collections).
 */
export function readFramesOnMainThread(fd: number, handlers: FrameReaderHandlers): Socket {
  const header = Buffer.alloc(8);
  let headerFill = 0;
  let body = Buffer.alloc(0);
  let bodyLength = -1; // -1: the header is not complete yet
  let bodyFill = 0;
  const consume = (chunk: Buffer): void => {
    let at = 0;
    while (at < chunk.length) {
      if (bodyLength < 0) {
        const n = Math.min(8 - headerFill, chunk.length - at);
        chunk.copy(header, headerFill, at, at + n);
        headerFill += n;
        at += n;
        if (headerFill < 8) return;
        bodyLength = header.readUInt32LE(4);
        bodyFill = 0;
        if (body.length < bodyLength) body = Buffer.alloc(bodyLength);
      }
      const n = Math.min(bodyLength - bodyFill, chunk.length - at);
      chunk.copy(body, bodyFill, at, at + n);
      bodyFill += n;
      at += n;
      if (bodyFill < bodyLength) return;
      const id = header.readUInt32LE(0);
      const length = bodyLength;
      headerFill = 0;
      bodyLength = -1;
      handlers.frame({ id, data: body.subarray(0, length) });
    }
  };
  const socket = new Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: Buffer.allocUnsafe(64 * 1024),
      callback: (n: number, buf: Buffer) => {
        consume(buf.subarray(0, n));
        return true;
      },
    },
  } as ConstructorParameters<typeof Socket>[0]);
  socket.on('end', () => {
    if (headerFill > 0 || bodyLength >= 0) handlers.end('frames pipe unreadable: frames pipe closed in the middle of a record', false);
    else handlers.end('frames pipe closed', true);
  });
  socket.on('error', (err) => handlers.end(`frames pipe unreadable: ${err.message}`, false));
  return socket;
}
