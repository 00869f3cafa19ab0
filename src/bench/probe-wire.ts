/** Messages between the bench and its subscriber process (probe-child.ts). */
export type ProbeRequest =
  | { type: 'connect'; url: string; baseTopic: string; clientId: string }
  | { type: 'collect'; id: number }
  | { type: 'close'; clearRetained: string[] };

export type ProbeReply =
  | { type: 'connected' }
  | { type: 'failed'; message: string }
  | { type: 'records'; id: number; records: ProbeRecord[] }
  | { type: 'closed' };

/** What the subscriber keeps of one detections message. */
export interface ProbeRecord {
  camera: string;
  seq: number;
  backend: string;
  /** Frame capture, Date.now() milliseconds, from the payload's `ts`. */
  capturedWall: number;
  /** Arrival, CLOCK_MONOTONIC milliseconds (process.hrtime in the subscriber). */
  receivedHrMs: number;
  latencyMs: Partial<Record<'capture' | 'preprocess' | 'inference' | 'postprocess' | 'total', number>>;
}
