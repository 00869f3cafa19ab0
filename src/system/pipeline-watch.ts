/** What the watchdog reads of one camera. */
export interface CameraProgress {
  camera: string;
  /** Frames the camera delivered. */
  captured: number;
  /** Frames the pipeline finished: published, or failed and counted as errors (either way it moves). */
  settled: number;
  /** The camera's detect.fps (0: as fast as the detector goes). */
  detectFps: number;
}

export interface StuckCamera {
  camera: string;
  /** How long frames have been arriving with none of them finished. */
  waitingMs: number;
}

/**
 * Decides, for the systemd watchdog, whether the daemon is stuck: a camera is stuck when frames reach it but none has
 * been finished for `graceMs` (or three of its detect intervals, if longer). A camera that gets no frames is not
 * stuck: it is offline and being restarted, or a files camera that has played its list; restarting the service
 * would not bring its frames back, and its status topic already says why. (The event loop itself being blocked stops
 * the checks, and so the pings, anyway.)
 */
export class PipelineWatch {
  private readonly cameras = new Map<string, { captured: number; settled: number; waitingSince: number | undefined }>();

  constructor(private readonly graceMs: number) {}

  /** Cameras stuck at `now` (ms, one clock for every call). */
  check(progress: readonly CameraProgress[], now: number): StuckCamera[] {
    const stuck: StuckCamera[] = [];
    for (const p of progress) {
      const seen = this.cameras.get(p.camera);
      if (!seen) {
        this.cameras.set(p.camera, { captured: p.captured, settled: p.settled, waitingSince: undefined });
        continue;
      }
      if (p.settled > seen.settled) seen.waitingSince = undefined;
      else if (p.captured > seen.captured && seen.waitingSince === undefined) seen.waitingSince = now;
      seen.captured = p.captured;
      seen.settled = p.settled;
      const limit = Math.max(this.graceMs, p.detectFps > 0 ? 3000 / p.detectFps : 0);
      if (seen.waitingSince !== undefined && now - seen.waitingSince >= limit) stuck.push({ camera: p.camera, waitingMs: now - seen.waitingSince });
    }
    return stuck;
  }
}
