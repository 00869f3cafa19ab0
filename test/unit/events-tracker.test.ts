import { describe, expect, it } from 'vitest';
import { ObjectTracker, trackIdSequence, type TrackerOptions } from '../../src/events/tracker.js';
import type { TrackerEvent } from '../../src/events/types.js';
import type { Detection } from '../../src/inference/types.js';
import type { Polygon } from '../../src/events/zones.js';

const ts = (seq: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, 0, seq * 100)).toISOString();
const det = (label: string, xmin: number, ymin: number, size = 0.2, score = 0.8): Detection => ({
  label,
  classId: 0,
  score,
  box: { xmin, ymin, xmax: xmin + size, ymax: ymin + size },
});

/** Feeds frames 1..n; returns the events of each frame. */
function feed(tracker: ObjectTracker, frames: Detection[][], firstSeq = 1): TrackerEvent[][] {
  return frames.map((dets, i) => tracker.update(dets, { seq: firstSeq + i, ts: ts(firstSeq + i) }));
}
const types = (events: TrackerEvent[][]): string[][] => events.map((f) => f.map((e) => `${e.type}:${e.id}`));
const tracker = (opts: TrackerOptions = {}) => new ObjectTracker('cam', opts);
const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('ObjectTracker: start', () => {
  it('emits new only on the minHits-th frame, with the first detection time as startTime', () => {
    const out = feed(tracker(), [[det('person', 0.1, 0.1)], [det('person', 0.1, 0.1)], [det('person', 0.1, 0.1)]]);
    expect(types(out)).toEqual([[], ['new:cam-1'], []]);
    const ev = out[1]?.[0];
    expect(ev).toMatchObject({ v: 1, type: 'new', camera: 'cam', label: 'person', score: 0.8, topScore: 0.8, zones: [], startTime: ts(1) });
    expect(ev?.endTime).toBeUndefined();
  });

  it('honours minHits 3 and minHits 1', () => {
    expect(types(feed(tracker({ minHits: 3 }), repeat(3, () => [det('car', 0.5, 0.5)])))).toEqual([[], [], ['new:cam-1']]);
    expect(types(feed(tracker({ minHits: 1 }), [[det('car', 0.5, 0.5)]]))).toEqual([['new:cam-1']]);
  });

  it('ignores detections without a box (classifier results)', () => {
    const t = tracker({ minHits: 1 });
    expect(feed(t, [[{ label: 'tabby', classId: 281, score: 0.9 }]])).toEqual([[]]);
    expect(t.size).toBe(0);
  });
});

describe('ObjectTracker: moving objects and the update rule', () => {
  it('keeps the id while an object walks, updating when the box has moved notably, not every frame', () => {
    // 0.02 per frame on a 0.2 box: IoU with the last published box is 0.82 after one frame, 0.67 after two.
    const out = feed(tracker(), repeat(12, (i) => [det('person', 0.1 + 0.02 * i, 0.3)]));
    const flat = out.flat();
    expect(new Set(flat.map((e) => e.id))).toEqual(new Set(['cam-1']));
    expect(out.map((f) => f.map((e) => e.type).join())).toEqual(['', 'new', '', 'update', '', 'update', '', 'update', '', 'update', '', 'update']);
    expect(out[11]?.[0]?.box.xmin).toBeCloseTo(0.32, 6);
  });

  it('stays quiet for a still object with jittery scores, updates when topScore rises by updateScoreGain', () => {
    const scores = [0.6, 0.6, 0.62, 0.58, 0.63, 0.66, 0.7, 0.72];
    const out = feed(tracker(), scores.map((s) => [det('dog', 0.4, 0.4, 0.2, s)]));
    expect(out.map((f) => f.map((e) => e.type).join())).toEqual(['', 'new', '', '', '', 'update', '', 'update']);
    expect(out[5]?.[0]).toMatchObject({ score: 0.66, topScore: 0.66 });
    expect(out[7]?.[0]).toMatchObject({ score: 0.72, topScore: 0.72 }); // 0.7 alone (+0.04) was not enough
  });

  it('updates when the zones change, even for a small move', () => {
    const zones: Record<string, Polygon> = { porch: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] };
    // Bottom centre x: 0.49 -> 0.5 (porch edge counts as inside) -> 0.51.
    const out = feed(tracker({ zones }), [[det('person', 0.39, 0.3)], [det('person', 0.39, 0.3)], [det('person', 0.4, 0.3)], [det('person', 0.41, 0.3)]]);
    expect(out.map((f) => f.map((e) => `${e.type}${JSON.stringify(e.zones)}`))).toEqual([[], ['new[]'], ['update["porch"]'], []]);
  });
});

describe('ObjectTracker: disappearing and flicker', () => {
  it('ends a confirmed track on its maxMissed-th missed frame, endTime = last seen', () => {
    const t = tracker({ maxMissed: 5 });
    const out = feed(t, [[det('cat', 0.2, 0.2)], [det('cat', 0.2, 0.2)], ...repeat(5, () => [])]);
    expect(types(out)).toEqual([[], ['new:cam-1'], [], [], [], [], ['end:cam-1']]);
    expect(out[6]?.[0]).toMatchObject({ type: 'end', startTime: ts(1), endTime: ts(2), box: { xmin: 0.2, ymin: 0.2 } });
    expect(t.size).toBe(0);
  });

  it('does not end or restart a track missing for fewer than maxMissed frames', () => {
    const t = tracker({ maxMissed: 5 });
    const seen = () => [det('cat', 0.2, 0.2)];
    const out = feed(t, [seen(), seen(), seen(), [], [], [], [], seen(), [], [], [], [], seen(), seen()]);
    expect(types(out).flat()).toEqual(['new:cam-1']);
    expect(t.counts().total).toEqual({ cat: 1 });
  });

  it('never announces a one-frame false positive, and forgets it', () => {
    const t = tracker();
    const person = () => det('person', 0.1, 0.1);
    const out = feed(t, [[person()], [person()], [person(), det('person', 0.7, 0.7)], [person()], [person()], [person(), det('dog', 0.5, 0.5)], [person()], [person()]]);
    expect(types(out).flat()).toEqual(['new:cam-1']);
    expect(t.size).toBe(1);
  });

  it('confirms a tentative object that misses one frame between hits, but not two', () => {
    const a = () => [det('car', 0.5, 0.5)];
    expect(types(feed(tracker(), [a(), [], a()])).flat()).toEqual(['new:cam-1']);
    expect(types(feed(tracker(), [a(), [], [], a()])).flat()).toEqual([]);
  });
});

describe('ObjectTracker: crossing objects', () => {
  it('keeps ids of two same-label objects walking through each other', () => {
    // A walks right, B walks left at the same height; at frame 7 their boxes coincide.
    const t = tracker();
    const frames = repeat(13, (i) => [det('person', 0.1 + 0.05 * i, 0.4), det('person', 0.7 - 0.05 * i, 0.4)]);
    const out = feed(t, frames);
    expect(types(out)[1]).toEqual(['new:cam-1', 'new:cam-2']);
    const byId = new Map<string, number[]>();
    for (const e of out.flat()) byId.set(e.id, [...(byId.get(e.id) ?? []), e.box.xmin]);
    const a = byId.get('cam-1') ?? [];
    const b = byId.get('cam-2') ?? [];
    expect(a.length).toBeGreaterThan(3);
    expect(a).toEqual([...a].sort((x, y) => x - y)); // only ever moves right
    expect(b).toEqual([...b].sort((x, y) => y - x)); // only ever moves left
    const ends = t.endAll(ts(20));
    expect(ends.map((e) => [e.id, e.box.xmin])).toEqual([['cam-1', 0.7], ['cam-2', 0.1]]);
    expect(out.flat().filter((e) => e.type === 'new')).toHaveLength(2);
  });

  it('never swaps two different labels, even where IoU would prefer it', () => {
    // The dog stops right where the person stood in the previous frame.
    const t = tracker();
    const frames = repeat(10, (i) => [det('person', 0.1 + 0.05 * i, 0.4), det('dog', Math.max(0.7 - 0.05 * i, 0.35), 0.4)]);
    const out = feed(t, frames);
    for (const e of out.flat()) expect(e.label).toBe(e.id === 'cam-1' ? 'person' : 'dog');
    expect(t.endAll(ts(20)).map((e) => [e.id, e.label, e.box.xmin])).toEqual([['cam-1', 'person', 0.55], ['cam-2', 'dog', 0.35]]);
  });

  it('keeps labels apart when two overlapping objects trade places', () => {
    // Person at 0.30 and dog at 0.35, then they swap: by IoU alone each track would take the other's box.
    const t = tracker();
    const before = () => [det('person', 0.3, 0.4), det('dog', 0.35, 0.4)];
    const after = () => [det('person', 0.35, 0.4), det('dog', 0.3, 0.4)];
    const out = feed(t, [before(), before(), before(), after(), after()]);
    expect(out.flat().map((e) => `${e.type}:${e.id}:${e.label}`)).toEqual(['new:cam-1:person', 'new:cam-2:dog', 'update:cam-1:person', 'update:cam-2:dog']);
    expect(t.endAll(ts(9)).map((e) => [e.id, e.label, e.box.xmin])).toEqual([['cam-1', 'person', 0.35], ['cam-2', 'dog', 0.3]]);
  });

  it('gives a detection overlapping two tracks to the one it overlaps most', () => {
    const t = tracker({ minHits: 1 });
    feed(t, [[det('car', 0.1, 0.1), det('car', 0.3, 0.1)]]);
    // One car now, at 0.25: IoU 0.6 with the second track (at 0.3), 0.14 with the first.
    feed(t, [[det('car', 0.25, 0.1)]], 2);
    const ends = t.endAll(ts(3));
    expect(ends.find((e) => e.id === 'cam-2')?.box.xmin).toBe(0.25);
    expect(ends.find((e) => e.id === 'cam-1')?.box.xmin).toBe(0.1);
  });
});

describe('ObjectTracker: masks, counts, endAll, options', () => {
  const zones: Record<string, Polygon> = { left: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]], right: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] };

  it('drops masked detections before association', () => {
    const t = tracker({ minHits: 1, masks: [[[0, 0], [1, 0], [1, 0.3], [0, 0.3]]] });
    expect(feed(t, [[det('bird', 0.4, 0.0, 0.1)]])).toEqual([[]]);
    expect(t.size).toBe(0);
    expect(types(feed(t, [[det('bird', 0.4, 0.25, 0.1)]]))).toEqual([['new:cam-1']]); // stands below the mask
  });

  it('counts confirmed objects per label and zone, down to 0 when the last one ends', () => {
    const t = tracker({ zones, maxMissed: 2 });
    expect(t.counts()).toEqual({ total: {}, zones: { left: {}, right: {} } });
    const both = () => [det('person', 0.1, 0.5), det('person', 0.6, 0.5), det('car', 0.7, 0.1, 0.25)];
    feed(t, [both()]);
    expect(t.counts().total).toEqual({}); // tentative only
    feed(t, [both()], 2);
    expect(t.counts()).toEqual({ total: { person: 2, car: 1 }, zones: { left: { person: 1 }, right: { person: 1, car: 1 } } });
    feed(t, [[det('person', 0.6, 0.5)], [det('person', 0.6, 0.5)]], 3);
    expect(t.counts()).toEqual({ total: { person: 1, car: 0 }, zones: { left: { person: 0 }, right: { person: 1, car: 0 } } });
    const out = feed(t, [[], []], 5);
    expect(types(out)).toEqual([[], ['end:cam-2']]);
    expect(t.counts()).toEqual({ total: { person: 0, car: 0 }, zones: { left: { person: 0 }, right: { person: 0, car: 0 } } });
    expect(t.size).toBe(0);
  });

  it('endAll ends every confirmed track at the given time and drops tentative ones', () => {
    const t = tracker();
    feed(t, [[det('person', 0.1, 0.1)], [det('person', 0.1, 0.1), det('dog', 0.6, 0.6)]]);
    const ends = t.endAll(ts(9));
    expect(ends).toEqual([expect.objectContaining({ type: 'end', id: 'cam-1', label: 'person', startTime: ts(1), endTime: ts(9) })]);
    expect(t.size).toBe(0);
    expect(t.counts().total).toEqual({ person: 0 });
    expect(t.endAll(ts(10))).toEqual([]);
    expect(types(feed(t, [[det('dog', 0.6, 0.6)], [det('dog', 0.6, 0.6)]], 10))).toEqual([[], ['new:cam-2']]);
  });

  it('keeps ids unique across trackers sharing one id sequence', () => {
    const nextId = trackIdSequence();
    const a = new ObjectTracker('cam', { minHits: 1, nextId });
    const first = feed(a, [[det('car', 0.1, 0.1)]]).flat();
    const b = new ObjectTracker('cam', { minHits: 1, nextId }); // e.g. recreated on config reload
    const second = feed(b, [[det('car', 0.1, 0.1)]]).flat();
    expect([...first, ...second].map((e) => e.id)).toEqual(['cam-1', 'cam-2']);
  });

  it('rejects bad options', () => {
    expect(() => tracker({ iouThreshold: 0 })).toThrow(/iouThreshold/);
    expect(() => tracker({ minHits: 0 })).toThrow(/minHits/);
    expect(() => tracker({ maxMissed: 1.5 })).toThrow(/maxMissed/);
    expect(() => tracker({ zones: { bad: [[0, 0], [1, 1]] } })).toThrow(/zone "bad" must be a list/);
    expect(() => tracker({ masks: [[[0, 0], [2, 0], [0, 1]]] })).toThrow(/mask 0 has a point/);
  });
});

describe('ObjectTracker: sub-labels (detect, then classify)', () => {
  const sub = (subLabel: string, subScore: number, x = 0.1): Detection => ({ ...det('bird', x, 0.1), subLabel, subScore });

  it('carries the best sub-label seen over the life of the object, and an update when a better one arrives', () => {
    const t = tracker({ minHits: 1 });
    const out = feed(t, [[sub('junco', 0.4)], [sub('chickadee', 0.9)], [sub('junco', 0.5)], [det('bird', 0.1, 0.1)]]);
    expect(out[0]![0]).toMatchObject({ type: 'new', subLabel: 'junco', subScore: 0.4 });
    expect(out[1]![0]).toMatchObject({ type: 'update', subLabel: 'chickadee', subScore: 0.9 });
    // A worse answer, or none, changes nothing: no update due, the best stays.
    expect(out[2]).toEqual([]);
    expect(out[3]).toEqual([]);
    const end = t.endAll(ts(9))[0]!;
    expect(end).toMatchObject({ type: 'end', subLabel: 'chickadee', subScore: 0.9 });
  });

  it('gives an object its own sub-label: two birds are not mixed', () => {
    const t = tracker({ minHits: 1 });
    const [frame] = feed(t, [[sub('chickadee', 0.9, 0.05), sub('sparrow', 0.7, 0.6)]]);
    expect(frame!.map((e) => e.subLabel)).toEqual(['chickadee', 'sparrow']);
  });

  it('leaves subLabel out of events of objects nobody classified', () => {
    const [frame] = feed(tracker({ minHits: 1 }), [[det('person', 0.1, 0.1)]]);
    expect(frame![0]).not.toHaveProperty('subLabel');
    expect(frame![0]).not.toHaveProperty('subScore');
  });
});
