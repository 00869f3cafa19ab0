import type { Detector, DetectResult, ModelInfo } from './detector.js';
import type { Backend } from './types.js';
import type { Logger } from '../system/logger.js';

/** What the retained `<prefix>/<device>/detector` topic says. */
export interface DetectorState {
  backend: Backend | 'none';
  reason: string;
  since: string;
  failovers: number;
  recoveries: number;
  tpus: { device: string; healthy: boolean; reason: string }[];
}

export interface FailoverOptions {
  /** `edgetpu`: a TPU must work at start; `auto`: start on whatever works. Both fall back at run time. */
  mode: 'auto' | 'edgetpu';
  /** libedgetpu device strings, one per TPU to use ("" = the first found). */
  devices: string[];
  recoverIntervalSec: number;
  /** A fresh Edge TPU detector (its own host process) for `device`. */
  makeTpu(device: string): Detector;
  /** The CPU twin, or undefined when there is none (then there is no fallback). */
  makeCpu?: () => Detector;
  /** Cheap checks before a TPU is loaded (library, device present): the reason it cannot work, or undefined. */
  probe(device: string): Promise<string | undefined>;
  onState(state: DetectorState): void;
  log: Logger;
  /** A TPU that stays up this long is trusted again (its next failure restarts the backoff). Default: max(60 s, 4 intervals). */
  stableAfterSec?: number;
  now?: () => number;
}

interface TpuSlot {
  device: string;
  detector?: Detector;
  healthy: boolean;
  reason: string;
  /** Consecutive failures; sets the backoff. Reset once the TPU has stayed healthy for a while. */
  failures: number;
  nextProbeAt: number;
  healthySince: number;
  probing: boolean;
}

const MAX_BACKOFF_FACTOR = 16;

/**
 * The Edge TPU -> CPU fallback, in one place above the detectors. Frames go round-robin to healthy TPUs; a TPU that
 * fails to load, crashes, hangs or errs is fenced (its host killed) and the frame is run again on another TPU or the
 * CPU twin, so no frame is lost and the gap is at most the inference timeout plus one CPU inference. Fenced TPUs are
 * re-probed every recoverIntervalSec, cheap checks first, with exponential backoff against flapping.
 */
export class FailoverDetector implements Detector {
  private readonly slots: TpuSlot[];
  private cpu: Detector | undefined;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  /** TPU detectors being loaded or probed: stop() kills them too, so a stop never waits for a load. */
  private readonly loading = new Set<Detector>();
  private stopped = false;
  private readonly state: DetectorState;
  private readonly now: () => number;
  private lastModel: ModelInfo | undefined;

  constructor(private readonly opts: FailoverOptions) {
    this.now = opts.now ?? Date.now;
    this.slots = opts.devices.map((device) => ({ device, healthy: false, reason: 'not started', failures: 0, nextProbeAt: 0, healthySince: 0, probing: false }));
    this.state = { backend: 'none', reason: 'starting', since: new Date(this.now()).toISOString(), failovers: 0, recoveries: 0, tpus: [] };
  }

  get backend(): Backend {
    return this.slots.some((s) => s.healthy) ? 'edgetpu' : 'cpu';
  }

  /** The model that runs now: the Edge TPU build while a TPU is healthy, else the CPU twin. */
  get model(): ModelInfo {
    const active = this.slots.find((s) => s.healthy)?.detector ?? this.cpu;
    if (active) return active.model;
    if (!this.lastModel) throw new Error('detector not started');
    return this.lastModel;
  }

  snapshot(): DetectorState {
    return { ...this.state, tpus: this.slots.map((s) => ({ device: s.device || 'default', healthy: s.healthy, reason: s.reason })) };
  }

  async start(): Promise<void> {
    if (this.opts.makeCpu) {
      // A warm standby: the fallback must not wait for a model load.
      this.cpu = this.opts.makeCpu();
      await this.cpu.start();
    }
    if (this.stopped) throw new Error('detector stopped while starting');
    await Promise.all(this.slots.map((s) => this.tryTpu(s)));
    if (this.stopped) throw new Error('detector stopped while starting');
    for (const s of this.slots.filter((slot) => !slot.healthy)) {
      s.failures = 1;
      s.nextProbeAt = this.now() + this.backoffMs(s);
    }
    const healthy = this.slots.filter((s) => s.healthy);
    if (healthy.length === 0) {
      const reasons = this.slots.map((s) => `${s.device || 'default'}: ${s.reason}`).join('; ');
      if (this.opts.mode === 'edgetpu' || !this.cpu) {
        await this.stop();
        throw new Error(`no Edge TPU could start (${reasons})${this.cpu ? '' : '; no CPU twin to fall back to'}`);
      }
      this.opts.log.warn({ reason: reasons }, 'Edge TPU not available at start: running on the CPU; will retry');
      this.setState('cpu', `Edge TPU not available: ${reasons}`);
    } else {
      this.setState('edgetpu', `running on ${healthy.length} Edge TPU${healthy.length > 1 ? 's' : ''}`);
    }
    if (!this.cpu) this.opts.log.warn('no CPU twin of the Edge TPU model: if the TPU fails, detection stops until it returns');
    this.schedule();
  }

  async detect(input: Uint8Array): Promise<DetectResult> {
    for (let tries = 0; tries < this.slots.length; tries++) {
      const slot = this.pick();
      if (!slot) break;
      const detector = slot.detector!;
      try {
        return await detector.detect(input);
      } catch (err) {
        await this.fence(slot, detector, (err as Error).message);
      }
    }
    if (!this.cpu) throw new Error(`no detector available: ${this.slots.map((s) => s.reason).join('; ')}`);
    return this.cpu.detect(input);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.slots.map((s) => s.detector?.stop()), ...[...this.loading].map((d) => d.stop().catch(() => undefined)), this.cpu?.stop()]);
  }

  private pick(): TpuSlot | undefined {
    const n = this.slots.length;
    for (let i = 0; i < n; i++) {
      const slot = this.slots[(this.next + i) % n]!;
      if (slot.healthy && slot.detector) {
        this.next = (this.next + i + 1) % n;
        return slot;
      }
    }
    return undefined;
  }

  /** Takes a failing TPU out of rotation and kills its host; the last one to go switches the daemon to the CPU. */
  private async fence(slot: TpuSlot, detector: Detector, reason: string): Promise<void> {
    if (slot.detector !== detector) return; // another frame already fenced it
    slot.detector = undefined;
    slot.healthy = false;
    slot.reason = reason;
    slot.failures = this.now() - slot.healthySince > this.stableMs() ? 1 : slot.failures + 1;
    slot.nextProbeAt = this.now() + this.backoffMs(slot);
    this.opts.log.warn({ device: slot.device || 'default', reason, retryInSec: Math.round(this.backoffMs(slot) / 1000) }, 'Edge TPU failed: fenced');
    void detector.stop().catch(() => undefined);
    if (!this.slots.some((s) => s.healthy)) {
      this.state.failovers++;
      this.setState(this.cpu ? 'cpu' : 'none', `Edge TPU failed: ${reason}`);
      this.opts.log.warn({ reason, failovers: this.state.failovers }, this.cpu ? 'switched to the CPU' : 'no detector left: waiting for the Edge TPU');
    }
  }

  /** Cheap checks, then a fresh host with the model and one test inference. */
  private async tryTpu(slot: TpuSlot): Promise<boolean> {
    slot.probing = true;
    try {
      const blocked = await this.opts.probe(slot.device);
      if (blocked) {
        slot.reason = blocked;
        return false;
      }
      if (this.stopped) return false; // stopped while probing: load nothing more
      const detector = this.opts.makeTpu(slot.device);
      this.loading.add(detector);
      try {
        await detector.start();
        const m = detector.model;
        await detector.detect(new Uint8Array(m.inputWidth * m.inputHeight * 3));
      } catch (err) {
        await detector.stop().catch(() => undefined);
        slot.reason = (err as Error).message;
        return false;
      } finally {
        this.loading.delete(detector);
      }
      if (this.stopped) {
        await detector.stop();
        return false;
      }
      slot.detector = detector;
      this.lastModel = detector.model;
      slot.healthy = true;
      slot.reason = 'ok';
      slot.healthySince = this.now();
      return true;
    } finally {
      slot.probing = false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const tickMs = Math.min(1000, (this.opts.recoverIntervalSec * 1000) / 4);
    this.timer = setTimeout(() => void this.recover().finally(() => this.schedule()), tickMs);
  }

  private async recover(): Promise<void> {
    const due = this.slots.filter((s) => !s.healthy && !s.probing && s.nextProbeAt <= this.now());
    const before = new Map(due.map((s) => [s, s.reason]));
    for (const slot of due) {
      const wasCpu = !this.slots.some((s) => s.healthy);
      if (await this.tryTpu(slot)) {
        this.opts.log.info({ device: slot.device || 'default' }, 'Edge TPU is back');
        if (wasCpu) {
          this.state.recoveries++;
          this.setState('edgetpu', 'Edge TPU recovered');
        }
      } else {
        slot.failures++;
        slot.nextProbeAt = this.now() + this.backoffMs(slot);
        this.opts.log.info({ device: slot.device || 'default', reason: slot.reason, retryInSec: Math.round(this.backoffMs(slot) / 1000) }, 'Edge TPU still unavailable');
        if (slot.reason !== before.get(slot)) this.opts.onState(this.snapshot());
      }
    }
  }

  private backoffMs(slot: TpuSlot): number {
    const factor = Math.min(MAX_BACKOFF_FACTOR, 2 ** Math.max(0, slot.failures - 1));
    return this.opts.recoverIntervalSec * 1000 * factor;
  }

  /** A TPU that stays up this long is trusted again: its next failure starts the backoff from scratch. */
  private stableMs(): number {
    if (this.opts.stableAfterSec !== undefined) return this.opts.stableAfterSec * 1000;
    return Math.max(60_000, this.opts.recoverIntervalSec * 1000 * 4);
  }

  private setState(backend: DetectorState['backend'], reason: string): void {
    this.state.backend = backend;
    this.state.reason = reason;
    this.state.since = new Date(this.now()).toISOString();
    this.opts.onState(this.snapshot());
  }
}
