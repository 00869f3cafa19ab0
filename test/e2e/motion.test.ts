import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIRD_ON_LEAVES, renderCrossingScene, renderLightsScene } from '../../src/bench/motion-scene.js';
import type { DetectionsPayload } from '../../src/publish/payloads.js';
import { INFERENCE_TIMEOUT_MS, NEXT_MS, START_MS, STOP_MS } from '../helpers/budgets.js';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix } from '../helpers/mqtt.js';
import { IMAGES, SSD_V1 } from '../helpers/paths.js';

const IDLE_SEC = 3;

/**
 * Three ffmpeg cameras in one daemon, sharing the COCO SSD: `gated` and `full` play the same 1080p file (a 200 px bird
 * photo crossing a still picture of leaves), with motion on and off; `lights` plays a still picture whose brightness
 * jumps halfway. Verdicts are counted per published frame (seq = frame of the file), never per second: a slow machine
 * publishes fewer frames, not worse ones.
 */
describe('motion-gated detection through the daemon (ffmpeg cameras, COCO SSD)', () => {
  const prefix = uniquePrefix('motion');
  const base = `${prefix}/mot`;
  const retained: string[] = [];
  afterAll(() => clearRetained(retained));

  it('finds the small bird in regions where full frames miss it; a still scene costs one detection per idleDetectSec; lights on cost one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-motion-'));
    const scene = BIRD_ON_LEAVES(IMAGES);
    const crossing = await renderCrossingScene(dir, scene);
    const lights = await renderLightsScene(dir, scene);
    const camera = (input: string, motion: object) => ({
      source: { type: 'ffmpeg', input, inputOptions: ['-re'], width: 1920, height: 1080, fps: crossing.fps },
      detect: { fps: 0 },
      motion,
    });
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'mot' },
        cameras: {
          gated: camera(crossing.path, { idleDetectSec: IDLE_SEC }),
          full: camera(crossing.path, { enabled: false }),
          lights: camera(lights.path, { idleDetectSec: IDLE_SEC }),
        },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 }, kind: 'ssd', inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
        events: { enabled: false },
        mqtt: { topicPrefix: prefix, clientId: `${prefix}-daemon` },
        stats: { intervalSec: 2 },
      }),
    );
    const sub = await Subscriber.connect(`${prefix}/#`);
    const daemon = spawnCli(['run', '--config', config]);
    const played = (cam: string) =>
      sub.waitFor((m) => m.topic === `${base}/${cam}/status` && JSON.parse(m.payload.toString()).state === 'offline', START_MS + NEXT_MS, `${cam} to play its file to the end`);
    try {
      // The files end (ffmpeg exits, the camera goes offline until it restarts it): every frame of them was seen.
      await Promise.all([played('gated'), played('full'), played('lights')]);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
    retained.push(...new Set(sub.messages.filter((m) => m.retain || /\/(status|motion|availability|stats|detector)$/.test(m.topic)).map((m) => m.topic)));
    // A restarted ffmpeg plays the file again with later seqs: only the first play counts.
    const runs = (cam: string, frames: number): DetectionsPayload[] =>
      sub
        .on(`${base}/${cam}/detections`)
        .map((m) => JSON.parse(m.payload.toString()) as DetectionsPayload)
        .filter((p) => p.seq < frames);
    const found = (p: DetectionsPayload): boolean => p.results.some((r) => r.label === crossing.label && r.score >= 0.5);

    // 1. The bird crossing: found in >= 60% of the gated camera's published frames, < 20% of the full-frame camera's.
    const { from, to } = crossing.moving;
    const inMove = (p: DetectionsPayload): boolean => p.seq >= from + 2 && p.seq < to - 2; // wholly in the picture
    const gated = runs('gated', crossing.frames).filter(inMove);
    const full = runs('full', crossing.frames).filter(inMove);
    const recall = (ps: DetectionsPayload[]): number => ps.filter(found).length / ps.length;
    console.log(`bird found: motion on ${gated.filter(found).length}/${gated.length}, motion off ${full.filter(found).length}/${full.length} published frames`);
    expect(gated.length).toBeGreaterThanOrEqual(5);
    expect(full.length).toBeGreaterThanOrEqual(5);
    expect(recall(gated)).toBeGreaterThanOrEqual(0.6);
    expect(recall(full)).toBeLessThan(0.2);
    for (const p of gated) {
      expect(p.trigger).toBe('motion');
      expect(p.motion).toBe(true);
      expect(p.regions!.length).toBeGreaterThanOrEqual(1);
      expect(p.regions!.length).toBeLessThanOrEqual(4);
      // Regions, not the whole frame: each far smaller than it.
      for (const r of p.regions!) expect((r.xmax - r.xmin) * (r.ymax - r.ymin)).toBeLessThan(0.25);
    }
    expect(full.every((p) => p.regions === undefined && p.trigger === undefined)).toBe(true);
    expect(sub.on(`${base}/gated/motion`).map((m) => m.payload.toString())).toContain('ON');

    // 2. Still: only the idle whole-frame detections, at most one per idleDetectSec (by the frames' own times).
    const still = runs('lights', lights.frames).filter((p) => p.seq < lights.jumpAt);
    const stillGated = runs('gated', crossing.frames).filter((p) => p.seq < crossing.moving.from);
    for (const part of [still, stillGated]) {
      expect(part.length).toBeGreaterThanOrEqual(1);
      expect(part.every((p) => p.trigger === 'idle' && p.regions!.length === 1)).toBe(true);
      const times = part.map((p) => Date.parse(p.ts));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(IDLE_SEC * 1000 - 50);
    }

    // 3. Lights on: at most one whole-frame detection for it, no region storm, then calm again.
    const after = runs('lights', lights.frames).filter((p) => p.seq >= lights.jumpAt);
    console.log(`after the brightness jump: ${after.map((p) => `${p.seq}:${p.trigger}`).join(' ')}`);
    expect(after.filter((p) => p.trigger === 'calibration').length).toBeLessThanOrEqual(1);
    expect(after.filter((p) => p.trigger === 'motion' || p.trigger === 'objects')).toEqual([]);
    expect(sub.on(`${base}/lights/motion`).map((m) => m.payload.toString())).not.toContain('ON');

    // 4. Stats per camera: frames with motion, detector runs, regions per run, motion time per frame.
    const stats = sub.on(`${base}/stats`).map((m) => JSON.parse(m.payload.toString()) as { cameras: Record<string, { motion?: { totals: { detectorRuns: number; framesWithMotion: number; skipped: number }; motionMs: { p50: number | null } } }> });
    const last = stats.at(-1)!.cameras;
    expect(last.full!.motion).toBeUndefined();
    expect(last.gated!.motion!.totals.framesWithMotion).toBeGreaterThan(0);
    expect(last.lights!.motion!.totals.skipped).toBeGreaterThan(last.lights!.motion!.totals.detectorRuns);
    await sub.close();
  }, 4 * START_MS);
});
