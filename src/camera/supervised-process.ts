import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../system/logger.js';
import type { CameraState } from './frame.js';
import { endGroup, signalGroup, spawnInGroup, type OutputSink, type ProgramOutput } from './process-group.js';

export interface SupervisorTiming {
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Up to this fraction of each backoff step is added at random, so cameras failing together do not restart in lockstep. */
  jitter: number;
  /** A run that delivered frames for this long was healthy: the next restart waits backoffMinMs again. */
  stableAfterMs: number;
  /** SIGKILL (to the process group) when the stop signal has not ended it after this long. */
  killAfterMs: number;
  /** No frame for this long (or 3 frame intervals, if longer): the process is hung; kill and restart it. */
  stallAfterMs: number;
  /** This many runs in a row without a single frame turn the state from offline to error (restarts go on). */
  errorAfterFailures: number;
}

export const DEFAULT_SUPERVISOR_TIMING: SupervisorTiming = {
  backoffMinMs: 1_000,
  backoffMaxMs: 30_000,
  jitter: 0.2,
  stableAfterMs: 60_000,
  killAfterMs: 2_000,
  stallAfterMs: 30_000,
  errorAfterFailures: 3,
};

/** How one run ended, for the owner's classification. */
export interface RunEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last stderr lines, oldest first. */
  stderr: string[];
  /** Whole frames the run delivered. */
  frames: number;
}

export interface ExitVerdict {
  reason: string;
  /** No restart can fix it (a rejected argument): give up, report error, end the source. */
  fatal?: boolean;
  /** Restart, but report error at once: a person has to act (no camera connected), though it may come back. */
  attention?: boolean;
}

export interface ProcessSpec {
  /** For logs and reasons: 'ffmpeg', 'rpicam-vid'. */
  name: string;
  /** Resolved at every start, so a binary installed meanwhile is found. */
  command(): { bin: string; args: string[] };
  /** The child's environment (and the PATH its binary is looked up on); default: ours. */
  env?: NodeJS.ProcessEnv;
  /** The signal that asks for a clean exit (rpicam-vid releases the camera on SIGINT; ffmpeg flushes on SIGTERM). */
  stopSignal: NodeJS.Signals;
  /** Expected frame rate: the stall limit is never under 3 frame intervals. */
  fps: number;
  classifyExit(end: RunEnd): ExitVerdict;
  /** Why the binary could not be run at all (ENOENT, EACCES): always fatal. */
  spawnFailure(err: NodeJS.ErrnoException, bin: string): string;
  /**
   * Hides secrets (an RTSP password) in every text that leaves the source: logged arguments, stderr lines (kept for
   * exit reasons and logged), status and exit reasons. The log scrubber of the daemon is a second net; the retained
   * MQTT status topic has no other.
   */
  scrub?(text: string): string;
}

/**
 * What the owner does with one run's output: every stdout chunk (or, with into/wrote, the bytes read in place: see
 * OutputSink), then the end (to drop a partial frame).
 */
export interface RunHandlers extends OutputSink {
  end(): void;
}

export interface SupervisorEvents {
  run(): RunHandlers;
  status(state: CameraState, reason: string): void;
  gaveUp(reason: string): void;
}

const STDERR_LINES_KEPT = 20;

/**
 * Keeps one capture process running: spawns it without a shell (arguments are never parsed), in its own process
 * group that dies with the daemon (process-group.ts), drains its stdout into the owner, keeps the tail of its stderr
 * for exit reasons, restarts it with exponential backoff plus jitter (reset after a healthy run), kills it when no
 * frame came for too long, and reports the camera state. Signals go to the whole group, so a wrapper script's ffmpeg
 * stops with it. Shared by the ffmpeg and rpicam sources.
 */
export class SupervisedProcess {
  private readonly timing: SupervisorTiming;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private started = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private runFrames = 0;
  private firstFrameAt: number | null = null;
  private lastFrameAt = 0;
  private stalledAfterMs: number | null = null;
  private failuresInARow = 0;
  private stderrTail: string[] = [];
  private lastStatus = '';
  private readonly count = { restarts: 0, stalls: 0 };
  private readonly scrub: (text: string) => string;

  constructor(
    private readonly spec: ProcessSpec,
    private readonly events: SupervisorEvents,
    private readonly logger: Logger,
    timing: Partial<SupervisorTiming> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.timing = { ...DEFAULT_SUPERVISOR_TIMING, ...timing };
    this.backoffMs = this.timing.backoffMinMs;
    this.scrub = spec.scrub ?? ((text) => text);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Started, and neither stopped nor given up. */
  get running(): boolean {
    return this.started && !this.stopping;
  }

  counters(): { restarts: number; stalls: number } {
    return { ...this.count };
  }

  start(): void {
    if (this.started) throw new Error(`${this.spec.name}: already started`);
    this.started = true;
    if (!this.stopping) this.spawnChild();
  }

  /** Ends the process (stop signal, then SIGKILL) and every timer; resolves once the process is gone. */
  async stop(): Promise<void> {
    const wasRunning = this.started && !this.stopping;
    this.stopping = true;
    this.clearTimers();
    if (this.child) this.terminate(this.child);
    await this.exited;
    if (wasRunning) this.setStatus('offline', 'source stopped');
  }

  /** The owner cut a whole frame from the output: feeds the stall watchdog; the first one of a run means online. */
  frame(): void {
    const now = performance.now();
    this.lastFrameAt = now;
    if (this.runFrames++ > 0) return;
    this.firstFrameAt = now;
    this.failuresInARow = 0;
    this.setStatus('online', 'frames flowing');
  }

  private spawnChild(): void {
    let command: { bin: string; args: string[] } | null = null;
    let child: ChildProcess;
    let output: ProgramOutput;
    // The run's handlers exist before the output does: a reader in place asks them where to read as it is made.
    // Never paused: a pipe left full makes the producer block or tear frames. Slow consumers drop in JS.
    let handlers: RunHandlers | undefined;
    try {
      command = this.spec.command();
      this.logger.debug({ bin: command.bin, args: command.args.map(this.scrub) }, `starting ${this.spec.name}`);
      handlers = this.events.run();
      ({ child, output } = spawnInGroup(command.bin, command.args, this.spec.env, this.spec.name, handlers));
    } catch (err) {
      handlers?.end(); // gives back a frame buffer it may have taken for the first read
      // A binary that is missing or not executable, or arguments spawn cannot pass at all (a NUL byte): no restart
      // can help.
      this.giveUp(command ? this.spec.spawnFailure(err as NodeJS.ErrnoException, command.bin) : (err as Error).message);
      return;
    }
    const { bin } = command;
    this.child = child;
    this.stderrTail = [];
    this.runFrames = 0;
    this.firstFrameAt = null;
    this.stalledAfterMs = null;
    this.lastFrameAt = performance.now();
    const run = handlers; // as a const, for the callbacks below
    let spawnError: NodeJS.ErrnoException | null = null;
    this.collectStderr(child);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) spawnError = err;
      else this.logger.warn({ err: this.scrub(err.message) }, `${this.spec.name} process error`);
    });
    // What the process leaves in its group (a wrapper's ffmpeg finishing after a stop signal) holds our pipes and
    // 'close' back: it gets killAfterMs to end, then the group is killed and, for anything that left the group, the
    // pipes are cut. Once closed, what is left in the group is killed (endGroup).
    child.once('exit', () => {
      const sweep = setTimeout(() => {
        signalGroup(child, 'SIGKILL');
        output.destroy();
        child.stderr?.destroy();
      }, this.timing.killAfterMs);
      void closed.then(() => clearTimeout(sweep));
    });
    child.once('close', () => endGroup(child));
    // Ended: the process has exited and closed its pipes, and its output has been read to the last byte (it is not
    // among the child's own pipes when it is a FIFO).
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
    });
    const closed = Promise.all([ended, output.closed]);
    this.exited = closed.then(([{ code, signal }]) => {
      this.child = null;
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = null;
      run.end();
      if (spawnError) this.giveUp(this.spec.spawnFailure(spawnError, bin));
      else this.onExit(code, signal);
    });
    this.armStallWatch(child);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const verdict: ExitVerdict =
      this.stalledAfterMs !== null
        ? { reason: `${this.spec.name} stalled: no frame for ${Math.round(this.stalledAfterMs / 100) / 10} s${this.lastLine()}` }
        : this.spec.classifyExit({ code, signal, stderr: [...this.stderrTail], frames: this.runFrames });
    if (verdict.fatal) {
      this.giveUp(verdict.reason);
      return;
    }
    if (this.runFrames === 0) this.failuresInARow++;
    if (this.firstFrameAt !== null && performance.now() - this.firstFrameAt >= this.timing.stableAfterMs) {
      this.backoffMs = this.timing.backoffMinMs;
    }
    const step = this.backoffMs;
    const jitterMs = Math.round(step * this.timing.jitter * this.random());
    this.backoffMs = Math.min(step * 2, this.timing.backoffMaxMs);
    const attention = verdict.attention === true || this.failuresInARow >= this.timing.errorAfterFailures;
    const reason = this.scrub(verdict.reason);
    this.setStatus(attention ? 'error' : 'offline', attention ? `${reason}; still retrying` : reason);
    this.logger.warn(
      { reason, stderr: this.stderrTail, restartInMs: step, jitterMs, restarts: this.count.restarts },
      `${this.spec.name} exited, restarting`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.count.restarts++;
      this.spawnChild();
    }, step + jitterMs);
  }

  private giveUp(why: string): void {
    if (this.stopping) return;
    const reason = this.scrub(why); // a spawn error can quote the arguments
    this.logger.error({ reason, stderr: this.stderrTail }, `${this.spec.name} source gave up`);
    this.stopping = true;
    this.clearTimers();
    this.setStatus('error', reason);
    this.events.gaveUp(reason);
  }

  private setStatus(state: CameraState, why: string): void {
    const reason = this.scrub(why);
    const key = `${state}\0${reason}`;
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.events.status(state, reason);
  }

  private lastLine(): string {
    const last = this.stderrTail.at(-1);
    return last ? `: ${last}` : '';
  }

  private collectStderr(child: ChildProcess): void {
    let partial = '';
    const keep = (line: string): void => {
      // Scrubbed whole, before the cut: half a password is no longer recognisable as one.
      const text = this.scrub(line.trim()).slice(0, 500);
      if (!text) return;
      this.logger.debug({ stderr: text }, `${this.spec.name} says`);
      this.stderrTail.push(text);
      if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      // A process that never ends its line must not grow this string without bound.
      if (partial.length > 4096) partial = partial.slice(-4096);
      lines.forEach(keep);
    });
    child.stderr!.on('end', () => keep(partial));
  }

  /** One timer per run, re-armed for the remaining time instead of being reset on every frame. */
  private armStallWatch(child: ChildProcess): void {
    const limit = Math.max(this.timing.stallAfterMs, 3000 / this.spec.fps);
    const check = (): void => {
      this.stallTimer = null;
      if (this.child !== child || this.stopping) return;
      const idle = performance.now() - this.lastFrameAt;
      if (idle < limit) {
        this.stallTimer = setTimeout(check, limit - idle);
        return;
      }
      this.count.stalls++;
      this.stalledAfterMs = idle;
      this.logger.warn({ idleMs: Math.round(idle), stalls: this.count.stalls }, `no frames from ${this.spec.name}, killing it`);
      this.terminate(child);
    };
    this.stallTimer = setTimeout(check, limit);
  }

  private terminate(child: ChildProcess): void {
    signalGroup(child, this.spec.stopSignal);
    const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), this.timing.killAfterMs);
    child.once('close', () => clearTimeout(killer));
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.restartTimer = this.stallTimer = null;
  }
}
