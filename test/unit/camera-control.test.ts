import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CameraControl, type ControlLink } from '../../src/pipeline/camera-control.js';
import { DetectStateStore } from '../../src/pipeline/detect-state-store.js';
import type { MessageHandler } from '../../src/publish/mqtt-publisher.js';
import { topicMatches } from '../../src/publish/topic-filter.js';
import { silentLogger } from '../../src/system/logger.js';

function setup(opts: { snapshots?: boolean; store?: DetectStateStore; detecting?: boolean } = {}) {
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const handlers: [string, MessageHandler][] = [];
  const hooks: (() => void)[] = [];
  const link: ControlLink = {
    topic: (...parts) => ['me', 'pi', ...parts].join('/'),
    publish: (topic, payload, o) => published.push({ topic, payload: payload.toString(), retain: o.retain }),
    subscribe: (filter, handler) => handlers.push([filter, handler]),
    onConnect: (hook) => hooks.push(hook),
  };
  const camera = {
    detecting: opts.detecting ?? true,
    changes: [] as boolean[],
    setDetecting(on: boolean) {
      this.detecting = on;
      this.changes.push(on);
    },
  };
  let snapshots = 0;
  const logs: { level: number; msg: string; topic?: string; payload?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const control = new CameraControl(
    { camera: 'front', ...(opts.snapshots ? { snapshot: () => void snapshots++ } : {}), ...(opts.store ? { store: opts.store } : {}) },
    camera,
    link,
    log,
  );
  control.start();
  const send = (topic: string, payload: string | Buffer, retained = false): void => {
    for (const [filter, handler] of handlers) if (topicMatches(filter, topic)) handler(Buffer.from(payload), topic, retained);
  };
  const state = () => published.filter((m) => m.topic === 'me/pi/front/detect/state');
  return { published, handlers, hooks, camera, send, state, logs, warnings: () => logs.filter((l) => l.level === 40), snapshots: () => snapshots };
}

describe('CameraControl: detect/set', () => {
  it('publishes the state retained at start and on every connect', () => {
    const s = setup();
    expect(s.handlers.map(([f]) => f)).toEqual(['me/pi/front/detect/set']);
    expect(s.state()).toEqual([{ topic: 'me/pi/front/detect/state', payload: 'ON', retain: true }]);
    s.camera.detecting = false;
    s.hooks.forEach((h) => h());
    expect(s.state().at(-1)?.payload).toBe('OFF');
  });

  it('OFF pauses and ON resumes detection, each answered on detect/state; case and blanks do not matter', () => {
    const s = setup();
    s.send('me/pi/front/detect/set', 'OFF');
    expect(s.camera.changes).toEqual([false]);
    expect(s.state().at(-1)?.payload).toBe('OFF');
    s.send('me/pi/front/detect/set', ' on\n');
    expect(s.camera.changes).toEqual([false, true]);
    expect(s.state().at(-1)?.payload).toBe('ON');
    s.send('me/pi/front/detect/set', 'ON'); // already on: no change, but answered
    expect(s.camera.changes).toEqual([false, true]);
    expect(s.state().map((m) => m.payload)).toEqual(['ON', 'OFF', 'ON', 'ON']);
    expect(s.warnings()).toEqual([]);
  });

  it('anything else: one warning naming the topic and the payload (cut short), and no change', () => {
    const s = setup();
    const long = `TOGGLE${'x'.repeat(200)}`;
    s.send('me/pi/front/detect/set', long);
    expect(s.camera.changes).toEqual([]);
    expect(s.state()).toHaveLength(1); // only the one from start
    const w = s.warnings();
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ topic: 'me/pi/front/detect/set', payload: `${long.slice(0, 40)}…` });
    expect(w[0]!.msg).toContain('me/pi/front/detect/set');
    expect(w[0]!.msg).toMatch(/expected ON or OFF/);
  });

  it('a flood of bad commands is one line per topic every 10 s, not one each', () => {
    const s = setup();
    for (let i = 0; i < 50; i++) s.send('me/pi/front/detect/set', `bad ${i}`);
    expect(s.warnings()).toHaveLength(1);
  });

  it('an empty payload (a retained command being cleared) is ignored without a word; a retained command is refused with one', () => {
    const s = setup();
    s.send('me/pi/front/detect/set', '');
    expect(s.warnings()).toEqual([]);
    s.send('me/pi/front/detect/set', 'OFF', true);
    expect(s.camera.changes).toEqual([]);
    expect(s.warnings()).toHaveLength(1);
    expect(s.warnings()[0]!.msg).toMatch(/retained command on me\/pi\/front\/detect\/set ignored/);
  });
});

describe('CameraControl: snapshot/set', () => {
  it('PRESS asks for a snapshot; anything else warns; no subscription when snapshots are off', () => {
    const s = setup({ snapshots: true });
    expect(s.handlers.map(([f]) => f)).toEqual(['me/pi/front/detect/set', 'me/pi/front/snapshot/set']);
    s.send('me/pi/front/snapshot/set', 'PRESS');
    expect(s.snapshots()).toBe(1);
    s.send('me/pi/front/snapshot/set', 'CLICK');
    expect(s.snapshots()).toBe(1);
    expect(s.warnings()).toHaveLength(1);
    expect(s.warnings()[0]).toMatchObject({ topic: 'me/pi/front/snapshot/set', payload: 'CLICK' });
    expect(setup().handlers.map(([f]) => f)).toEqual(['me/pi/front/detect/set']);
  });
});

describe('DetectStateStore', () => {
  it('keeps a camera paused across a restart of the daemon (a new store on the same file)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'me-detect-')), 'detect.json');
    const first = new DetectStateStore(file, silentLogger());
    expect(first.load()).toEqual({});
    const s = setup({ store: first });
    s.send('me/pi/front/detect/set', 'OFF');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ v: 1, cameras: { front: false } });
    expect(new DetectStateStore(file, silentLogger()).load()).toEqual({ front: false });
  });

  it('a damaged file is reported and ignored: every camera detects', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'me-detect-')), 'detect.json');
    writeFileSync(file, '{"cameras": {"front": fal');
    const logs: { level: number; msg: string }[] = [];
    const store = new DetectStateStore(file, pino({}, { write: (l: string) => void logs.push(JSON.parse(l)) }));
    expect(store.load()).toEqual({});
    expect(logs.map((l) => l.msg)).toEqual(['saved detect states are not valid JSON; every camera detects']);
    writeFileSync(file, '{"cameras": {"front": "no", "back": false}}');
    expect(store.load()).toEqual({ back: false });
  });

  it('an unwritable directory costs a warning, never a throw', () => {
    const logs: { level: number; msg: string }[] = [];
    const store = new DetectStateStore('/proc/nonexistent/detect.json', pino({}, { write: (l: string) => void logs.push(JSON.parse(l)) }));
    expect(() => store.save('front', false)).not.toThrow();
    expect(logs.map((l) => l.msg)).toEqual(['cannot save the detect state: it holds until the daemon stops, not across a restart']);
  });
});
