import { performance } from 'node:perf_hooks';
import type { Detector, DetectResult, ModelInfo } from './detector.js';
import { HostProcess } from './host/host-process.js';
import type { DelegateSpec } from './host/protocol.js';
import type { ModelPlan } from './model-plan.js';
import type { Backend } from './types.js';
import type { Logger } from '../system/logger.js';

export interface TfliteDetectorOptions {
  backend: Backend;
  threads: number;
  /** Deadline of one inference; past it the host is deemed hung and killed. */
  inferenceTimeoutMs: number;
  loadTimeoutMs?: number;
  delegate?: DelegateSpec;
  /**
   * Start a new host when the last one died (default). The Edge TPU detectors turn it off: their failures are
   * handled by the failover layer, which fences the TPU and re-probes it with backoff.
   */
  restartOnCrash?: boolean;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * A TFLite model in its own host process. When the host dies (a crash in the runtime) the next request starts a new
 * one, with backoff, so one bad frame or a runtime fault never takes the daemon down.
 */
export class TfliteDetector implements Detector {
  readonly backend: Backend;
  readonly model: ModelInfo;
  private host: HostProcess | undefined;
  private starting: Promise<void> | undefined;
  private restarts = 0;
  private nextStartAt = 0;
  private stopped = false;

  constructor(
    private readonly plan: ModelPlan,
    private readonly opts: TfliteDetectorOptions,
    private readonly log: Logger,
  ) {
    this.backend = opts.backend;
    this.model = plan.info;
  }

  /** pid of the current inference host (tests, diagnostics). */
  get hostPid(): number | undefined {
    return this.host?.pid;
  }

  async start(): Promise<void> {
    if (this.plan.description.edgetpu && !this.opts.delegate) {
      throw new Error(
        `${this.plan.info.path} is compiled for the Edge TPU (edgetpu-custom-op) and cannot run on the CPU; use its CPU twin (the same name without _edgetpu)`,
      );
    }
    this.starting = this.spawnHost().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
  }

  async detect(input: Uint8Array): Promise<DetectResult> {
    if (!this.host?.alive) {
      if (this.opts.restartOnCrash === false) throw new Error(`${this.backend} inference host is not running`);
      await this.restartHost();
    }
    const reply = await this.host!.infer(input, this.opts.inferenceTimeoutMs);
    this.restarts = 0;
    return { results: this.plan.decode(reply.outputs), inferenceMs: reply.inferenceMs, ...(reply.cpuMs !== undefined ? { invokeCpuMs: reply.cpuMs } : {}), backend: this.backend };
  }

  /** Kills a model load in progress rather than waiting for it (a stop while starting). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.host?.stop();
    await this.starting?.catch(() => undefined);
  }

  private async spawnHost(): Promise<void> {
    const host = new HostProcess();
    host.start();
    this.host = host;
    const started = performance.now();
    try {
      const loaded = await host.load(
        {
          modelPath: this.plan.info.path,
          threads: this.opts.threads,
          ...(this.opts.delegate ? { delegate: this.opts.delegate } : {}),
          ...(this.plan.normalization ? { normalization: this.plan.normalization } : {}),
        },
        this.opts.loadTimeoutMs ?? 30_000,
      );
      this.log.info(
        { model: this.plan.info.name, backend: this.backend, threads: this.opts.threads, pid: host.pid, loadMs: Math.round(performance.now() - started) },
        'inference host ready',
      );
      this.checkOutputs(loaded.outputs.map((o) => o.name));
    } catch (err) {
      await host.stop();
      const detail = host.stderr().slice(-2).join(' | ');
      throw new Error(`cannot load ${this.plan.info.path} on the ${this.backend}: ${(err as Error).message}${detail && !(err as Error).message.includes(detail) ? ` (${detail})` : ''}`);
    }
  }

  /** The runtime and our reader must agree on the outputs, or decoding would read the wrong arrays. */
  private checkOutputs(runtimeNames: string[]): void {
    const ours = this.plan.description.outputs.map((t) => t.name);
    if (ours.join('\n') !== runtimeNames.join('\n')) {
      throw new Error(`output order differs between the model file (${ours.join(', ')}) and the runtime (${runtimeNames.join(', ')})`);
    }
  }

  private restartHost(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('detector stopped'));
    if (this.starting) return this.starting;
    const wait = this.nextStartAt - Date.now();
    if (wait > 0) return Promise.reject(new Error(`inference host restarting in ${Math.ceil(wait)} ms`));
    this.restarts++;
    this.nextStartAt = Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.restarts - 1));
    this.log.warn({ model: this.plan.info.name, backend: this.backend, attempt: this.restarts }, 'inference host is not running; restarting it');
    this.starting = this.spawnHost().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }
}
