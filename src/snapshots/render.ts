import sharp from 'sharp';
import type { Box } from '../inference/types.js';

/** The part of a `Frame` a snapshot needs: packed RGB, 3 bytes a pixel. */
export interface SnapshotFrame {
  width: number;
  height: number;
  data: Buffer;
}

export interface SnapshotBox {
  box: Box;
  label: string;
  score: number;
}

/** Outlines without a tag (the live page's motion boxes and detection regions), dashed in one colour per kind. */
export interface SnapshotOutlines {
  motion?: readonly Box[];
  regions?: readonly Box[];
}

/** Motion in red, regions in white: apart from every label colour's meaning, and dashed unlike any object box. */
export const OUTLINE_COLOURS = { motion: '#ff3b30', regions: '#ffffff' } as const;

export interface RenderOptions {
  /** Output width at most, in pixels; the frame is scaled down keeping its aspect, never up. */
  maxWidth?: number;
  /** JPEG quality, 1-100. */
  quality?: number;
}

/** Distinct, saturated colours that stay readable on dark and light scenes. */
const PALETTE = ['#ff3b30', '#34c759', '#0a84ff', '#ffcc00', '#ff2d92', '#30d5c8', '#ff9500', '#af52de', '#a2d729', '#5ac8fa'];

/** FNV-1a: a label always gets the same colour, across runs and processes. */
export function labelColour(label: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return PALETTE[(h >>> 0) % PALETTE.length] as string;
}

/** Labels come from model files: never trust them inside markup. Drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Output size: at most maxWidth wide, aspect kept, never upscaled. */
export function snapshotSize(width: number, height: number, maxWidth: number): { width: number; height: number } {
  if (width <= maxWidth) return { width, height };
  return { width: maxWidth, height: Math.max(1, Math.round((height * maxWidth) / width)) };
}

/** The SVG drawn over the (already scaled) picture: one outline and one tag per box. */
export function overlaySvg(width: number, height: number, boxes: readonly SnapshotBox[], outlines: SnapshotOutlines = {}): string {
  const stroke = width >= 480 ? 3 : 2;
  const font = clamp(Math.round(width / 40), 10, 18);
  const tagH = font + 6;
  const parts: string[] = [];
  for (const kind of ['regions', 'motion'] as const) {
    for (const box of outlines[kind] ?? []) {
      const x0 = clamp(box.xmin * width, 1, width - 1);
      const x1 = clamp(box.xmax * width, 1, width - 1);
      const y0 = clamp(box.ymin * height, 1, height - 1);
      const y1 = clamp(box.ymax * height, 1, height - 1);
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${(x1 - x0).toFixed(1)}" height="${(y1 - y0).toFixed(1)}" fill="none" stroke="${OUTLINE_COLOURS[kind]}" stroke-width="1.5" stroke-dasharray="${kind === 'motion' ? '4 3' : '8 4'}" class="${kind}"/>`,
      );
    }
  }
  for (const { box, label, score } of boxes) {
    const colour = labelColour(label);
    // The stroke is centred on the path: keep it wholly inside the picture.
    const half = stroke / 2;
    const x0 = clamp(Math.min(box.xmin, box.xmax) * width, half, width - half);
    const x1 = clamp(Math.max(box.xmin, box.xmax) * width, half, width - half);
    const y0 = clamp(Math.min(box.ymin, box.ymax) * height, half, height - half);
    const y1 = clamp(Math.max(box.ymin, box.ymax) * height, half, height - half);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${(x1 - x0).toFixed(1)}" height="${(y1 - y0).toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
    );
    const text = `${label} ${Math.round(clamp(score, 0, 1) * 100)}%`;
    // Width estimate: sans-serif glyphs average ~0.6 em.
    const tagW = Math.min(width, Math.ceil(text.length * font * 0.6) + 8);
    const tx = clamp(x0 - half, 0, Math.max(0, width - tagW));
    // Above the box when there is room, else just inside its top edge.
    const ty = y0 - half - tagH >= 0 ? y0 - half - tagH : y0 + half;
    parts.push(
      `<rect x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" width="${tagW}" height="${tagH}" fill="${colour}"/>`,
      `<text x="${(tx + 4).toFixed(1)}" y="${(ty + tagH - 5).toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="#000">${escapeXml(text)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/**
 * A JPEG of the frame, scaled down to `maxWidth`, with each box outlined in its label's colour and tagged with label
 * and score. Rejects when the frame's buffer does not hold width * height * 3 bytes.
 */
export async function renderSnapshot(frame: SnapshotFrame, boxes: readonly SnapshotBox[], opts: RenderOptions = {}, outlines: SnapshotOutlines = {}): Promise<Buffer> {
  const maxWidth = opts.maxWidth ?? 640;
  const quality = opts.quality ?? 80;
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`snapshot: bad frame size ${width}x${height}`);
  if (data.length !== width * height * 3) throw new Error(`snapshot: frame holds ${data.length} bytes, ${width}x${height} RGB needs ${width * height * 3}`);
  const out = snapshotSize(width, height, maxWidth);
  // sharp composites after resizing: outlines and text keep their pixel size whatever the camera resolution.
  let img = sharp(data, { raw: { width, height, channels: 3 } });
  if (out.width !== width) img = img.resize(out.width, out.height, { kernel: 'lanczos3' });
  const outlined = (outlines.motion?.length ?? 0) + (outlines.regions?.length ?? 0) > 0;
  if (boxes.length > 0 || outlined) img = img.composite([{ input: Buffer.from(overlaySvg(out.width, out.height, boxes, outlines)), top: 0, left: 0 }]);
  return img.jpeg({ quality, mozjpeg: false }).toBuffer();
}
