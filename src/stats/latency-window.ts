export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Latency samples of one stats interval. Bounded: past `capacity` samples it keeps a uniform reservoir, so a long
 * interval at a high frame rate costs fixed memory.
 */
export class LatencyWindow {
  private samples: Float64Array;
  private n = 0;
  private seen = 0;
  private sum = 0;
  private maxSeen = 0;

  constructor(private readonly capacity = 4096) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.seen++;
    this.sum += ms;
    if (ms > this.maxSeen) this.maxSeen = ms;
    if (this.n < this.capacity) {
      this.samples[this.n++] = ms;
    } else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.capacity) this.samples[j] = ms;
    }
  }

  get count(): number {
    return this.seen;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    const sorted = this.samples.slice(0, this.n).sort();
    const at = (q: number): number => sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)]!;
    const round = (v: number): number => Math.round(v * 100) / 100;
    return {
      count: this.seen,
      mean: round(this.sum / this.seen),
      p50: round(at(0.5)),
      p95: round(at(0.95)),
      p99: round(at(0.99)),
      max: round(this.maxSeen),
    };
  }

  reset(): void {
    this.n = 0;
    this.seen = 0;
    this.sum = 0;
    this.maxSeen = 0;
  }
}
