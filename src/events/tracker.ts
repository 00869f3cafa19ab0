import type { Box, Detection } from '../inference/types.js';
import { centre, iou, shiftBox } from './box-math.js';
import type { TrackerCounts, TrackerEvent, TrackerEventType } from './types.js';
import { isMasked, validatePolygon, zonesOf, type Polygon } from './zones.js';

export interface TrackerOptions {
  /** Minimum IoU for a detection to continue a track of the same label. Default 0.3. */
  iouThreshold?: number;
  /** Hits before a track is confirmed and `new` is emitted. Default 2. */
  minHits?: number;
  /** Consecutive frames without a match after which a confirmed track ends. Default 5. */
  maxMissed?: number;
  zones?: Readonly<Record<string, Polygon>>;
  masks?: readonly Polygon[];
  /** `update` is due when the box's IoU with the last published box falls below this. Default 0.7. */
  updateIou?: number;
  /** `update` is due when topScore has risen this much over the last published topScore. Default 0.05. */
  updateScoreGain?: number;
  /**
   * Event id source. The default numbers tracks per tracker (`${camera}-${n}`); a daemon that may recreate
   * trackers (config reload) passes one shared `trackIdSequence()` so ids stay unique for the whole run.
   */
  nextId?: (camera: string) => string;
}

export interface FrameInfo {
  seq: number;
  /** ISO time of the frame. */
  ts: string;
}

/** Numbers tracks per camera: `${camera}-1`, `${camera}-2`, ... */
export function trackIdSequence(): (camera: string) => string {
  const counters = new Map<string, number>();
  return (camera) => {
    const n = (counters.get(camera) ?? 0) + 1;
    counters.set(camera, n);
    return `${camera}-${n}`;
  };
}

/** A tentative track survives this many consecutive misses (fewer if maxMissed is 1); more and it is dropped without a word. */
const TENTATIVE_MAX_MISSED = 1;

interface Track {
  /** Assigned on confirmation, so tentative tracks use no ids. */
  id?: string;
  label: string;
  box: Box;
  score: number;
  topScore: number;
  zones: string[];
  hits: number;
  missed: number;
  startTime: string;
  lastSeenTime: string;
  lastSeq: number;
  /** Centre displacement per frame seq, smoothed; undefined until the second hit. */
  velocity?: { dx: number; dy: number };
  /** Best sub-label over the object's life (the classifier's answer with the highest subScore). */
  subLabel?: string;
  subScore?: number;
  /** What the last `new`/`update` said, to decide when the next update is due. */
  published?: { box: Box; topScore: number; zones: string[]; subLabel?: string };
}

type BoxedDetection = Detection & { box: Box };

/**
 * Follows objects across one camera's frames and turns them into new/update/end events. Pure logic, no I/O.
 *
 * - Association: detections without a box (classifiers) and masked ones are dropped; every track/detection
 *   pair with the same label is scored by IoU (the better of the track's last box and the box predicted from
 *   its velocity, which keeps same-label objects apart when they cross), pairs under iouThreshold are
 *   discarded and the rest are taken greedily, highest IoU first. Cost O(tracks × detections) pairs plus
 *   their sort.
 * - Start: an unmatched detection opens a tentative track; it is confirmed (`new`) on its minHits-th hit.
 *   Hits need not be strictly consecutive: a tentative track survives one missed frame and is dropped
 *   silently on the second, so a one-frame false positive never produces `new`.
 * - Update rule: a confirmed, matched track emits `update` only when, compared with what it last published,
 *   its zones changed, or its topScore rose by at least updateScoreGain, or its box moved notably
 *   (IoU with the last published box below updateIou). A steady object stays quiet; a moving one reports
 *   every few frames.
 * - End: a confirmed track unmatched for maxMissed consecutive processed frames (update() calls, not seq
 *   gaps) emits `end` with endTime = the time it was last seen, and is forgotten.
 */
export class ObjectTracker {
  private readonly iouThreshold: number;
  private readonly minHits: number;
  private readonly maxMissed: number;
  private readonly zones: Readonly<Record<string, Polygon>>;
  private readonly masks: readonly Polygon[];
  private readonly updateIou: number;
  private readonly updateScoreGain: number;
  private readonly nextId: (camera: string) => string;
  private tracks: Track[] = [];
  /** Labels (overall and per zone) ever counted, so counts() reports the drop to 0. Bounded by the label map. */
  private readonly seenLabels = new Set<string>();
  private readonly seenZoneLabels = new Map<string, Set<string>>();

  constructor(
    readonly camera: string,
    opts: TrackerOptions = {},
  ) {
    this.iouThreshold = opts.iouThreshold ?? 0.3;
    this.minHits = opts.minHits ?? 2;
    this.maxMissed = opts.maxMissed ?? 5;
    this.updateIou = opts.updateIou ?? 0.7;
    this.updateScoreGain = opts.updateScoreGain ?? 0.05;
    this.zones = opts.zones ?? {};
    this.masks = opts.masks ?? [];
    this.nextId = opts.nextId ?? trackIdSequence();
    if (!(this.iouThreshold > 0 && this.iouThreshold <= 1)) throw new RangeError(`iouThreshold must be in (0, 1], got ${this.iouThreshold}`);
    if (!Number.isInteger(this.minHits) || this.minHits < 1) throw new RangeError(`minHits must be an integer >= 1, got ${this.minHits}`);
    if (!Number.isInteger(this.maxMissed) || this.maxMissed < 1) throw new RangeError(`maxMissed must be an integer >= 1, got ${this.maxMissed}`);
    if (!(this.updateIou > 0 && this.updateIou <= 1)) throw new RangeError(`updateIou must be in (0, 1], got ${this.updateIou}`);
    if (!(this.updateScoreGain >= 0)) throw new RangeError(`updateScoreGain must be >= 0, got ${this.updateScoreGain}`);
    for (const [name, poly] of Object.entries(this.zones)) {
      const problem = validatePolygon(poly);
      if (problem) throw new RangeError(`zone "${name}" ${problem}`);
      this.seenZoneLabels.set(name, new Set());
    }
    for (const [i, poly] of this.masks.entries()) {
      const problem = validatePolygon(poly);
      if (problem) throw new RangeError(`mask ${i} ${problem}`);
    }
  }

  /** Where the objects being tracked (tentative ones too) were last seen: motion gating looks there again. */
  boxes(): Box[] {
    return this.tracks.map((t) => t.box);
  }

  /** Feeds one processed frame's detections; returns the events it caused, in track age order. */
  update(detections: readonly Detection[], frame: FrameInfo): TrackerEvent[] {
    const dets = detections.filter((d): d is BoxedDetection => d.box !== undefined && !isMasked(d.box, this.masks));
    const matchOf = this.associate(dets, frame.seq);
    const events: TrackerEvent[] = [];
    const kept: Track[] = [];

    for (const [ti, track] of this.tracks.entries()) {
      const di = matchOf.get(ti);
      if (di !== undefined) {
        this.absorb(track, dets[di] as BoxedDetection, frame);
        const event = this.afterHit(track);
        if (event) events.push(event);
        kept.push(track);
        continue;
      }
      track.missed++;
      if (track.id === undefined) {
        if (track.missed < Math.min(TENTATIVE_MAX_MISSED + 1, this.maxMissed)) kept.push(track);
      } else if (track.missed >= this.maxMissed) {
        events.push(this.event('end', track, track.lastSeenTime));
      } else {
        kept.push(track);
      }
    }

    const taken = new Set(matchOf.values());
    for (const [di, d] of dets.entries()) {
      if (taken.has(di)) continue;
      const track: Track = {
        label: d.label,
        box: { ...d.box },
        score: d.score,
        topScore: d.score,
        zones: zonesOf(d.box, this.zones),
        hits: 1,
        missed: 0,
        startTime: frame.ts,
        lastSeenTime: frame.ts,
        lastSeq: frame.seq,
      };
      takeSubLabel(track, d);
      const event = this.afterHit(track);
      if (event) events.push(event);
      kept.push(track);
    }

    this.tracks = kept;
    return events;
  }

  /** Ends every confirmed track (shutdown) with endTime = ts; tentative tracks vanish silently. */
  endAll(ts: string): TrackerEvent[] {
    const events = this.tracks.filter((t) => t.id !== undefined).map((t) => this.event('end', t, ts));
    this.tracks = [];
    return events;
  }

  /**
   * Confirmed, not yet ended objects per label, overall and per zone. Every configured zone is present, and a
   * label once counted stays with 0, so a publisher sees the count fall to zero.
   */
  counts(): TrackerCounts {
    const total: Record<string, number> = {};
    const zones: Record<string, Record<string, number>> = {};
    for (const label of this.seenLabels) total[label] = 0;
    for (const [zone, labels] of this.seenZoneLabels) {
      zones[zone] = {};
      for (const label of labels) zones[zone][label] = 0;
    }
    for (const t of this.tracks) {
      if (t.id === undefined) continue;
      total[t.label] = (total[t.label] ?? 0) + 1;
      for (const z of t.zones) {
        const perZone = zones[z];
        if (perZone) perZone[t.label] = (perZone[t.label] ?? 0) + 1;
      }
    }
    return { total, zones };
  }

  /** Number of live tracks, tentative included (for stats and tests). */
  get size(): number {
    return this.tracks.length;
  }

  /** Track index -> detection index, greedy by highest IoU within a label. */
  private associate(dets: readonly BoxedDetection[], seq: number): Map<number, number> {
    const pairs: { ti: number; di: number; overlap: number }[] = [];
    for (const [ti, track] of this.tracks.entries()) {
      const predicted = this.predict(track, seq);
      for (const [di, d] of dets.entries()) {
        if (d.label !== track.label) continue;
        const overlap = Math.max(iou(track.box, d.box), predicted ? iou(predicted, d.box) : 0);
        if (overlap >= this.iouThreshold) pairs.push({ ti, di, overlap });
      }
    }
    // Ties: confirmed before tentative, then older tracks (lower index) first.
    const confirmed = (ti: number): number => (this.tracks[ti]?.id !== undefined ? 0 : 1);
    pairs.sort((a, b) => b.overlap - a.overlap || confirmed(a.ti) - confirmed(b.ti) || a.ti - b.ti || a.di - b.di);
    const matchOf = new Map<number, number>();
    const usedDets = new Set<number>();
    for (const p of pairs) {
      if (matchOf.has(p.ti) || usedDets.has(p.di)) continue;
      matchOf.set(p.ti, p.di);
      usedDets.add(p.di);
    }
    return matchOf;
  }

  /** Where the track's box should be at `seq` if it kept its velocity; the horizon is capped at maxMissed + 1 frames. */
  private predict(track: Track, seq: number): Box | undefined {
    if (!track.velocity) return undefined;
    const frames = Math.min(Math.max(seq - track.lastSeq, 1), this.maxMissed + 1);
    return shiftBox(track.box, track.velocity.dx * frames, track.velocity.dy * frames);
  }

  private absorb(track: Track, d: BoxedDetection, frame: FrameInfo): void {
    const gap = Math.max(frame.seq - track.lastSeq, 1);
    const before = centre(track.box);
    const after = centre(d.box);
    const dx = (after.x - before.x) / gap;
    const dy = (after.y - before.y) / gap;
    track.velocity = track.velocity ? { dx: (track.velocity.dx + dx) / 2, dy: (track.velocity.dy + dy) / 2 } : { dx, dy };
    track.box = { ...d.box };
    track.score = d.score;
    track.topScore = Math.max(track.topScore, d.score);
    track.zones = zonesOf(d.box, this.zones);
    track.hits++;
    track.missed = 0;
    track.lastSeenTime = frame.ts;
    track.lastSeq = frame.seq;
    takeSubLabel(track, d);
  }

  /** After a hit: `new` when the track has just reached minHits, `update` when the update rule says so. */
  private afterHit(track: Track): TrackerEvent | undefined {
    if (track.id === undefined) {
      if (track.hits < this.minHits) return undefined;
      track.id = this.nextId(this.camera);
      return this.publish('new', track);
    }
    const last = track.published;
    const due =
      !last ||
      !sameList(last.zones, track.zones) ||
      last.subLabel !== track.subLabel ||
      track.topScore - last.topScore >= this.updateScoreGain ||
      iou(last.box, track.box) < this.updateIou;
    return due ? this.publish('update', track) : undefined;
  }

  private publish(type: TrackerEventType, track: Track): TrackerEvent {
    track.published = { box: { ...track.box }, topScore: track.topScore, zones: [...track.zones], ...(track.subLabel !== undefined ? { subLabel: track.subLabel } : {}) };
    // Every zone change of a confirmed track is published, so this sees every (zone, label) counts() can report.
    this.seenLabels.add(track.label);
    for (const z of track.zones) this.seenZoneLabels.get(z)?.add(track.label);
    return this.event(type, track);
  }

  private event(type: TrackerEventType, t: Track, endTime?: string): TrackerEvent {
    const out: TrackerEvent = {
      v: 1,
      type,
      id: t.id as string,
      camera: this.camera,
      label: t.label,
      score: r4(t.score),
      topScore: r4(t.topScore),
      box: { xmin: r4(t.box.xmin), ymin: r4(t.box.ymin), xmax: r4(t.box.xmax), ymax: r4(t.box.ymax) },
      zones: [...t.zones],
      startTime: t.startTime,
    };
    if (endTime !== undefined) out.endTime = endTime;
    if (t.subLabel !== undefined && t.subScore !== undefined) {
      out.subLabel = t.subLabel;
      out.subScore = r4(t.subScore);
    }
    return out;
  }
}

const r4 = (v: number): number => Math.round(v * 10000) / 10000;

/** Keeps the best sub-label seen: a better-scored one replaces it (and makes an `update` due), a worse one does not. */
function takeSubLabel(track: Track, d: Detection): void {
  if (d.subLabel === undefined || d.subScore === undefined) return;
  if (track.subScore !== undefined && d.subScore <= track.subScore) return;
  track.subLabel = d.subLabel;
  track.subScore = d.subScore;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
