import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { EVENT_TYPES } from '../../src/homeassistant/discovery.js';
import type { Detection } from '../../src/inference/types.js';
import { CameraEvents, type EventSink } from '../../src/pipeline/camera-events.js';
import type { MessageHandler } from '../../src/publish/mqtt-publisher.js';
import { topicMatches } from '../../src/publish/topic-filter.js';
import { silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

interface Sent {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
}

function fakeSink() {
  const sent: Sent[] = [];
  const handlers: [string, MessageHandler][] = [];
  const sink: EventSink = {
    topic: (...parts) => ['b', ...parts].join('/'),
    publish: (topic, payload, o) => sent.push({ topic, payload, retain: o.retain }),
    subscribe: (filter, handler) => handlers.push([filter, handler]),
  };
  /** The broker handing over a retained message at subscribe time (or a live one, retained = false). */
  const deliver = (topic: string, payload: string, retained = true): void => {
    for (const [filter, handler] of handlers) if (topicMatches(filter, topic)) handler(Buffer.from(payload), topic, retained);
  };
  const last = (topic: string): string | undefined => sent.filter((m) => m.topic === topic).at(-1)?.payload.toString();
  return { sink, sent, handlers, deliver, last };
}

const frame = (seq: number): Frame => ({ camera: 'cam', seq, capturedAt: seq, wallTime: Date.UTC(2025, 0, 1) + seq * 100, captureMs: 1, width: 32, height: 24, data: Buffer.alloc(32 * 24 * 3, 128), origin: `f${seq}` });
const cat: Detection = { label: 'cat', classId: 16, score: 0.9, box: { xmin: 0.1, ymin: 0.6, xmax: 0.4, ymax: 0.95 } };

function events(sink: EventSink, labels = ['person'], snapshots = false) {
  return new CameraEvents(
    {
      camera: 'cam',
      tracker: { minHits: 1, maxMissed: 1, zones: { floor: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] } },
      labels,
      snapshots: { enabled: snapshots, maxWidth: 64, quality: 60 },
      eventPublish: { qos: 1, retain: false, offline: 'queue' },
    },
    sink,
    silentLogger(),
  );
}

describe('CameraEvents: topics', () => {
  it('publishes counts on <camera>/count/<label>, so a label named like a camera topic cannot land on it', () => {
    const f = fakeSink();
    const e = events(f.sink, ['person', 'status', 'snapshot']);
    e.start();
    expect(f.last('b/cam/count/person')).toBe('0');
    expect(f.last('b/cam/count/status')).toBe('0');
    expect(f.last('b/cam/count/snapshot')).toBe('0');
    // Nothing but the camera's own status ever goes to <camera>/status, and nothing at all to <camera>/snapshot here.
    expect(f.sent.filter((m) => m.topic === 'b/cam/status' || m.topic === 'b/cam/snapshot')).toEqual([]);
    e.onFrame(frame(1), [cat]);
    expect(f.last('b/cam/count/cat')).toBe('1');
    expect(f.last('b/cam/zones/floor/cat')).toBe('1');
    expect(f.last('b/cam/occupancy')).toBe('ON');
  });

  it('clears the counts older versions kept at <camera>/<label>, except where that is one of the camera\'s own topics', () => {
    const f = fakeSink();
    events(f.sink, ['person', 'status', 'events']).start();
    expect(f.sent.filter((m) => m.payload === '').map((m) => m.topic)).toEqual(['b/cam/person']);
    expect(f.sent.find((m) => m.topic === 'b/cam/person')?.retain).toBe(true);
  });

  it('gives each event an event_type equal to its type (Home Assistant\'s event entity reads it), keeping every other field', () => {
    const f = fakeSink();
    const e = events(f.sink);
    e.start();
    e.onFrame(frame(1), [cat]);
    e.onFrame(frame(2), []);
    e.onFrame(frame(3), []);
    const evs = f.sent.filter((m) => m.topic === 'b/cam/events').map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
    expect(evs.map((ev) => ev.type)).toEqual(['new', 'end']);
    for (const ev of evs) {
      expect(ev.event_type).toBe(ev.type);
      expect(EVENT_TYPES).toContain(ev.event_type);
      expect(ev).toMatchObject({ v: 1, camera: 'cam', label: 'cat', zones: ['floor'] });
      expect(Object.keys(ev)).toEqual(expect.arrayContaining(['id', 'score', 'topScore', 'box', 'startTime']));
    }
  });
});

describe('CameraEvents: the last sub-label (Home Assistant sensor)', () => {
  it('publishes <camera>/sub_label retained when an event brings a sub-label, once per object and name', () => {
    const f = fakeSink();
    const ev = events(f.sink);
    const bird = (subLabel: string, subScore: number): Detection => ({ label: 'bird', classId: 15, score: 0.8, box: { xmin: 0.1, ymin: 0.1, xmax: 0.3, ymax: 0.3 }, subLabel, subScore });
    ev.onFrame(frame(1), [{ label: 'bird', classId: 15, score: 0.8, box: { xmin: 0.1, ymin: 0.1, xmax: 0.3, ymax: 0.3 } }]);
    expect(f.sent.filter((m) => m.topic === 'b/cam/sub_label')).toEqual([]);
    ev.onFrame(frame(2), [bird('chickadee', 0.9)]);
    ev.onFrame(frame(3), [bird('chickadee', 0.95)]);
    const sent = f.sent.filter((m) => m.topic === 'b/cam/sub_label');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.retain).toBe(true);
    expect(JSON.parse(sent[0]!.payload.toString())).toMatchObject({ subLabel: 'chickadee', subScore: 0.9, label: 'bird', id: 'cam-1' });
  });
});

describe('CameraEvents: no count left standing by a previous run', () => {
  it('zeroes retained counts of labels and zones it has not published itself (seen only at run time before a crash)', () => {
    const f = fakeSink();
    const e = events(f.sink, ['person']);
    e.start();
    expect(f.handlers.map(([filter]) => filter).sort()).toEqual(['b/cam/count/+', 'b/cam/zones/+/+']);
    // What a SIGKILLed run left retained:
    f.deliver('b/cam/count/dog', '2');
    f.deliver('b/cam/zones/floor/dog', '1');
    f.deliver('b/cam/count/cat', '0');
    expect(f.last('b/cam/count/dog')).toBe('0');
    expect(f.last('b/cam/zones/floor/dog')).toBe('0');
    expect(f.last('b/cam/count/cat')).toBeUndefined(); // already right: nothing sent
    expect(f.last('b/cam/occupancy')).toBe('OFF');
  });

  it('never overrides a count of this run, and ignores live (not retained) messages', () => {
    const f = fakeSink();
    const e = events(f.sink, ['person']);
    e.start();
    e.onFrame(frame(1), [cat]);
    f.deliver('b/cam/count/cat', '3'); // the old value arriving after ours went out: ours stands
    f.deliver('b/cam/count/person', '5');
    f.deliver('b/cam/count/dog', '4', false); // someone publishing now, not a leftover
    expect(f.last('b/cam/count/cat')).toBe('1');
    expect(f.last('b/cam/count/person')).toBe('0');
    expect(f.last('b/cam/count/dog')).toBeUndefined();
  });
});

describe('CameraEvents: pause and snapshots on request', () => {
  it('endAll ends every object and sets counts to 0 and occupancy OFF', () => {
    const f = fakeSink();
    const e = events(f.sink);
    e.start();
    e.onFrame(frame(1), [cat]);
    expect(f.last('b/cam/occupancy')).toBe('ON');
    e.endAll();
    expect(JSON.parse(f.sent.filter((m) => m.topic === 'b/cam/events').at(-1)!.payload.toString())).toMatchObject({ type: 'end', event_type: 'end' });
    expect(f.last('b/cam/count/cat')).toBe('0');
    expect(f.last('b/cam/occupancy')).toBe('OFF');
  });

  it('publishes a snapshot of the next frame when asked, with nothing in view, and of an undetected frame', async () => {
    const f = fakeSink();
    const e = events(f.sink, ['person'], true);
    e.start();
    e.onFrame(frame(1), []);
    expect(e.wantsFrame).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(f.sent.filter((m) => m.topic === 'b/cam/snapshot')).toHaveLength(0); // nothing asked, nothing in view
    e.requestSnapshot();
    expect(e.wantsFrame).toBe(true);
    e.onFrame(frame(2), []);
    await until(() => f.sent.some((m) => m.topic === 'b/cam/snapshot'), 10_000, 'the requested snapshot');
    const jpeg = f.sent.find((m) => m.topic === 'b/cam/snapshot')!;
    expect(jpeg.retain).toBe(true);
    expect((jpeg.payload as Buffer).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(e.wantsFrame).toBe(false); // one request, one snapshot
    e.requestSnapshot();
    e.onUndetectedFrame(frame(3));
    await until(() => f.sent.filter((m) => m.topic === 'b/cam/snapshot').length === 2, 10_000, 'a snapshot of an undetected frame');
  });
});
