import { countUnsettled, type AckState } from './outbox-acks.js';
import type { Damage, DecodeResult } from './outbox-record.js';

/**
 * One warning per damaged segment: which file, how many detections it cost, where. Between two whole records the ids
 * say exactly which were lost (less those already delivered); at either end of a segment only the bytes tell.
 */
export function damageNote(
  file: string,
  damage: Damage[],
  records: DecodeResult['records'],
  acks: AckState | null,
  meanBytes: number,
): { fields: Record<string, unknown>; msg: string } {
  let lost = 0;
  let estimated = false;
  for (const d of damage) {
    if (d.prevId !== undefined && d.nextId !== undefined) lost += countUnsettled(acks, d.prevId, d.nextId);
    else {
      lost += Math.max(1, Math.round(d.bytes / meanBytes));
      estimated = true;
    }
  }
  const skipped = damage.reduce((sum, d) => sum + d.bytes, 0);
  const first = damage[0]!;
  return {
    fields: { file, lost, estimated, skippedBytes: skipped, at: damage.slice(0, 10).map((d) => d.offset), replayedFromFile: records.length },
    msg:
      `${file} is damaged (${first.problem} at byte ${first.offset}${damage.length > 1 ? `, and ${damage.length - 1} more place(s)` : ''}): ` +
      `${skipped} bytes skipped, ${estimated ? 'about ' : ''}${lost} detection(s) lost; the whole records before and after the damage are replayed`,
  };
}
