import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface ProcessSample {
  rssMb: number;
  heapUsedMb: number;
  /** CPU time of this process over the interval, as a percentage of one core. */
  cpuPercent: number;
  eventLoopLagMs: { p50: number; p99: number; max: number };
}

/**
 * The event-loop lag histogram's timer period. Each tick is a wake-up of an otherwise idle daemon: measured on a
 * 2-core VM, an idle process with the monitor on uses 6.5 ms of CPU a second at 10 ms (Node's default), 1.7 at 50 ms
 * (for a Coral-fed camera at 30 fps that is 0.16 ms a frame saved). A stall still shows: it delays the tick that falls
 * inside it, and 20 samples a second give a p99 over a stats interval.
 */
const RESOLUTION_MS = 50;

/** RSS, CPU and event-loop lag of the daemon process, each read as a delta since the previous sample. */
export class ProcessStats {
  private readonly lag: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor() {
    this.lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.lag.enable();
  }

  sample(): ProcessSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = Math.max(1, now - this.lastAt);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const mem = process.memoryUsage();
    // The histogram records the whole interval between its timer ticks: the lag is what exceeds the tick.
    const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const sample: ProcessSample = {
      rssMb: Math.round((mem.rss / 1048576) * 10) / 10,
      heapUsedMb: Math.round((mem.heapUsed / 1048576) * 10) / 10,
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 10,
      eventLoopLagMs: {
        p50: ms(this.lag.percentile(50)),
        p99: ms(this.lag.percentile(99)),
        max: ms(this.lag.max),
      },
    };
    this.lag.reset();
    return sample;
  }

  stop(): void {
    this.lag.disable();
  }
}
