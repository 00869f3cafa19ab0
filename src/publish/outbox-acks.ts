/**
 * What has been delivered (or dropped), as the small file `acks.json` beside the segments:
 * every id up to `high` is settled except those inside the `unsettled` ranges (inclusive, ascending).
 * Ranges keep the file small however acks arrive: the count of ranges is at most the count of unsettled messages + 1,
 * and in practice (acks mostly in order) it is one or two.
 */
export interface AckState {
  high: number;
  unsettled: [number, number][];
}

export function isSettled(state: AckState | null, id: number): boolean {
  if (!state || id > state.high) return false;
  const r = state.unsettled;
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = r[mid]!;
    if (id < a) hi = mid - 1;
    else if (id > b) lo = mid + 1;
    else return false;
  }
  return true;
}

/** `unsettledIds` ascending (the outbox's push order). */
export function encodeAcks(high: number, unsettledIds: Iterable<number>): string {
  const ranges: [number, number][] = [];
  let last: [number, number] | undefined;
  for (const id of unsettledIds) {
    if (last && id === last[1] + 1) last[1] = id;
    else ranges.push((last = [id, id]));
  }
  return JSON.stringify({ v: 1, high, unsettled: ranges });
}

/** Throws on anything that is not a state this code wrote: the caller then trusts no ack (replays everything). */
export function parseAcks(text: string): AckState {
  const raw = JSON.parse(text) as { v?: unknown; high?: unknown; unsettled?: unknown };
  const { high, unsettled } = raw;
  if (raw.v !== 1 || !Number.isSafeInteger(high) || !Array.isArray(unsettled)) throw new Error('not an outbox ack file');
  let prev = -Infinity;
  for (const r of unsettled as unknown[]) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1])) throw new Error('bad range');
    if (r[0] > r[1] || r[0] <= prev) throw new Error('ranges out of order');
    prev = r[1] as number;
  }
  return { high: high as number, unsettled: unsettled as [number, number][] };
}

/** How many ids strictly between `after` and `before` are not settled: what a damaged stretch between two whole records cost. */
export function countUnsettled(state: AckState | null, after: number, before: number): number {
  const lo = after + 1;
  const hi = before - 1;
  if (hi < lo) return 0;
  if (!state) return hi - lo + 1;
  let n = Math.max(0, hi - Math.max(lo, state.high + 1) + 1);
  for (const [a, b] of state.unsettled) {
    const from = Math.max(a, lo);
    const to = Math.min(b, hi, state.high);
    if (to >= from) n += to - from + 1;
  }
  return n;
}
