import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The synthetic scenes of the motion scenario (bench and tests): a still 1920x1080 picture made from a photo, and a
 * small photo of an object crossing it, rendered once by ffmpeg to a file that an ffmpeg camera then plays at its
 * frame rate. Times are in frames, so a verdict can be counted per frame whatever the machine's speed.
 */
export interface SceneTimeline {
  fps: number;
  /** Frames in the file. */
  frames: number;
  /** Frames [from, to) in which the object is wholly in the picture and moving. */
  moving: { from: number; to: number };
  /** Frames [from, to) of the still part (nothing moves, no object). */
  still: { from: number; to: number };
}

export interface CrossingScene extends SceneTimeline {
  path: string;
  /** The object's label in COCO. */
  label: string;
  /** The object's width in pixels. */
  objectWidth: number;
}

export interface LightsScene extends SceneTimeline {
  path: string;
  /** First frame after the brightness jump. */
  jumpAt: number;
}

export interface SceneOptions {
  /** Background photo (any size; scaled to 1920x1080). */
  background: string;
  /** The part of the background photo to use, in its pixels (e.g. only leaves, where the detector sees no object). */
  backgroundCrop?: { x: number; y: number; w: number; h: number };
  /** Object photo, scaled to objectWidth. */
  object: string;
  label: string;
  objectWidth?: number;
  fps?: number;
  /** Seconds still before the object comes in, crossing, and still after. */
  stillSec?: number;
  crossSec?: number;
  ffmpeg?: string;
}

export const SCENE_WIDTH = 1920;
export const SCENE_HEIGHT = 1080;

/**
 * Still, then the object crossing from left to right along the lower third, then still again. Motion JPEG at high
 * quality: every frame decodes on its own (cheap to seek and to decode), and an unchanged frame encodes identically,
 * so the still parts are truly still.
 */
export async function renderCrossingScene(dir: string, o: SceneOptions): Promise<CrossingScene> {
  const fps = o.fps ?? 5;
  const stillSec = o.stillSec ?? 4;
  const crossSec = o.crossSec ?? 8;
  const objectWidth = o.objectWidth ?? 200;
  const total = stillSec * 2 + crossSec;
  const path = join(dir, `crossing-${o.label}.avi`);
  const x0 = 40;
  const speed = (SCENE_WIDTH - objectWidth - 2 * x0) / crossSec;
  const filter = [
    `[0]${cropFilter(o.backgroundCrop)}scale=${SCENE_WIDTH}:${SCENE_HEIGHT},setsar=1[bg]`,
    `[1]scale=${objectWidth}:-2,setsar=1[obj]`,
    `[bg][obj]overlay=x='${x0}+${speed.toFixed(3)}*(t-${stillSec})':y=${Math.round(SCENE_HEIGHT * 0.6)}:enable='between(t,${stillSec},${stillSec + crossSec - 1 / fps})',format=yuvj420p[out]`,
  ].join(';');
  await ffmpeg(o.ffmpeg, ['-loop', '1', '-framerate', String(fps), '-t', String(total), '-i', o.background, '-loop', '1', '-framerate', String(fps), '-t', String(total), '-i', o.object, '-filter_complex', filter, '-map', '[out]', '-r', String(fps), '-frames:v', String(total * fps), '-c:v', 'mjpeg', '-q:v', '2', '-y', path]);
  return {
    path,
    label: o.label,
    objectWidth,
    fps,
    frames: total * fps,
    moving: { from: stillSec * fps, to: (stillSec + crossSec) * fps },
    still: { from: 0, to: stillSec * fps },
  };
}

/** A still picture whose brightness jumps once (lights switched on) halfway through. */
export async function renderLightsScene(dir: string, o: Pick<SceneOptions, 'background' | 'backgroundCrop' | 'fps' | 'ffmpeg'> & { seconds?: number }): Promise<LightsScene> {
  const fps = o.fps ?? 5;
  const seconds = o.seconds ?? 12;
  const jumpSec = seconds / 2;
  const path = join(dir, 'lights.avi');
  const filter = `[0]${cropFilter(o.backgroundCrop)}scale=${SCENE_WIDTH}:${SCENE_HEIGHT},setsar=1,eq=brightness=0.25:enable='gte(t,${jumpSec})',format=yuvj420p[out]`;
  await ffmpeg(o.ffmpeg, ['-loop', '1', '-framerate', String(fps), '-t', String(seconds), '-i', o.background, '-filter_complex', filter, '-map', '[out]', '-r', String(fps), '-frames:v', String(seconds * fps), '-c:v', 'mjpeg', '-q:v', '2', '-y', path]);
  return { path, fps, frames: seconds * fps, jumpAt: jumpSec * fps, moving: { from: 0, to: 0 }, still: { from: 0, to: jumpSec * fps } };
}

const cropFilter = (c: SceneOptions['backgroundCrop']): string => (c ? `crop=${c.w}:${c.h}:${c.x}:${c.y},` : '');

/**
 * The scene the tests and the bench use: leaves from the shared sunflower photo (where the COCO SSD finds nothing
 * at 0.5) and the shared bird photo 200 px wide. Measured with `detect`: the whole 1920x1080 frame with the bird gives
 * no bird (it calls it a person, 0.6); a 300x300 crop around it gives bird 0.82.
 */
export const BIRD_ON_LEAVES = (images: string): SceneOptions => ({
  background: join(images, 'sunflower.bmp'),
  backgroundCrop: { x: 382, y: 160, w: 130, h: 180 },
  object: join(images, 'bird.bmp'),
  label: 'bird',
  objectWidth: 200,
});

function ffmpeg(bin = 'ffmpeg', args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`cannot run ${bin}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} failed to render a motion scene (exit ${code}): ${err.trim().slice(-500)}`))));
  });
}
