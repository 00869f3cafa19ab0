import type { Box } from '../inference/types.js';

export type TrackerEventType = 'new' | 'update' | 'end';

/** One tracked object's lifecycle step, as published on the events topic. */
export interface TrackerEvent {
  v: 1;
  type: TrackerEventType;
  /** Unique per daemon run, e.g. "front-12". */
  id: string;
  camera: string;
  label: string;
  /** Score of the latest matched detection. */
  score: number;
  /** Best score seen over the object's life. */
  topScore: number;
  /** Latest matched box (on `end`: where the object was last seen). */
  box: Box;
  /** Zones holding the box's bottom centre, in config order. */
  zones: string[];
  /** ISO time of the first frame the object was detected in (before it was confirmed). */
  startTime: string;
  /** ISO time; on `end` only. */
  endTime?: string;
  /** The best sub-label a classifier gave the object over its life (highest subScore so far), when one did. */
  subLabel?: string;
  subScore?: number;
}

/** Per-label counts of confirmed objects, overall and per zone. */
export interface TrackerCounts {
  total: Record<string, number>;
  zones: Record<string, Record<string, number>>;
}
