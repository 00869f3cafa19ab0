import type { Backend, Box, Detection } from '../inference/types.js';
import type { StageTimes } from '../stats/camera-stats.js';

export interface DetectionsPayload {
  v: 1;
  ts: string;
  seq: number;
  camera: string;
  model: string;
  backend: Backend;
  frame: { width: number; height: number };
  latencyMs: StageTimes;
  results: Detection[];
  /**
   * With motion gating (cameras.<name>.motion): the regions of the frame the detector saw, normalised (the whole
   * frame is [0, 0, 1, 1]); why it ran (motion, objects: the re-check of still tracked objects, idle: the periodic
   * whole frame, calibration: after a global change such as lights); and whether motion triggered it.
   */
  regions?: Box[];
  trigger?: 'motion' | 'objects' | 'idle' | 'calibration';
  motion?: boolean;
}

const r2 = (v: number): number => Math.round(v * 100) / 100;
const r4 = (v: number): number => Math.round(v * 10000) / 10000;

/** One processed frame as published on `<prefix>/<device>/<camera>/detections`. */
export function detectionsPayload(p: Omit<DetectionsPayload, 'v' | 'ts' | 'motion'> & { wallTime: number }): DetectionsPayload {
  const payload: DetectionsPayload = {
    v: 1,
    ts: new Date(p.wallTime).toISOString(),
    seq: p.seq,
    camera: p.camera,
    model: p.model,
    backend: p.backend,
    frame: p.frame,
    latencyMs: {
      capture: r2(p.latencyMs.capture),
      preprocess: r2(p.latencyMs.preprocess),
      inference: r2(p.latencyMs.inference),
      postprocess: r2(p.latencyMs.postprocess),
      total: r2(p.latencyMs.total),
    },
    results: p.results.map((d) => {
      const out: Detection = { label: d.label, classId: d.classId, score: r4(d.score) };
      if (d.box) out.box = roundBox(d.box);
      if (d.subLabel !== undefined && d.subScore !== undefined) {
        out.subLabel = d.subLabel;
        out.subScore = r4(d.subScore);
      }
      if (d.subLabels) out.subLabels = d.subLabels.map((s) => ({ label: s.label, score: r4(s.score) }));
      return out;
    }),
  };
  if (p.regions) payload.regions = p.regions.map(roundBox);
  if (p.trigger) {
    payload.trigger = p.trigger;
    payload.motion = p.trigger === 'motion';
  }
  return payload;
}

const roundBox = (b: Box): Box => ({ xmin: r4(b.xmin), ymin: r4(b.ymin), xmax: r4(b.xmax), ymax: r4(b.ymax) });
