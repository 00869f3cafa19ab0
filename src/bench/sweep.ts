/** Which thread counts `--threads sweep` tries, and which one wins. */

export interface SweepPoint {
  threads: number;
  fps: number;
}

/** 1 .. min(4, 2 x cores): more threads than that only ever lose on the boards we target. */
export function sweepCandidates(cores: number): number[] {
  const top = Math.max(1, Math.min(4, Math.floor(cores) * 2));
  return Array.from({ length: top }, (_, i) => i + 1);
}

/** The fastest point; on a tie the fewer threads (they leave cores to capture and preprocessing). */
export function pickFastest(points: readonly SweepPoint[]): SweepPoint {
  if (points.length === 0) throw new Error('thread sweep measured nothing');
  return points.reduce((best, p) => (p.fps > best.fps || (p.fps === best.fps && p.threads < best.threads) ? p : best));
}
