/** How a frame is fitted to a model's input: stretch, letterbox (pad) or crop (centre). */
export type ResizeMode = 'stretch' | 'letterbox' | 'crop';

/**
 * How model-input coordinates map back to frame coordinates, both normalised to [0, 1]:
 * frameX = ax * modelX + bx, frameY = ay * modelY + by.
 */
export interface Geometry {
  ax: number;
  bx: number;
  ay: number;
  by: number;
}

/** Which source rectangle lands on which destination rectangle (the rest of the destination is black). */
export interface ResizePlan {
  src: { x: number; y: number; w: number; h: number };
  dst: { x: number; y: number; w: number; h: number };
  geometry: Geometry;
}

/**
 * The rectangles of a resize mode: stretch ignores the aspect ratio, letterbox keeps all of the picture with black
 * bars, crop fills the input and cuts the edges. Both the libvips path (prepareInput) and the one-pass I420 path
 * (i420-resize.ts) follow it, so boxes map back to the frame identically whichever path prepared the input.
 */
export function planResize(w: number, h: number, width: number, height: number, mode: ResizeMode): ResizePlan {
  if (mode === 'stretch' || (w === width && h === height)) {
    return { src: { x: 0, y: 0, w, h }, dst: { x: 0, y: 0, w: width, h: height }, geometry: { ax: 1, bx: 0, ay: 1, by: 0 } };
  }
  if (mode === 'letterbox') {
    const scale = Math.min(width / w, height / h);
    const rw = Math.max(1, Math.min(width, Math.round(w * scale)));
    const rh = Math.max(1, Math.min(height, Math.round(h * scale)));
    const left = Math.floor((width - rw) / 2);
    const top = Math.floor((height - rh) / 2);
    return {
      src: { x: 0, y: 0, w, h },
      dst: { x: left, y: top, w: rw, h: rh },
      geometry: { ax: width / rw, bx: -left / rw, ay: height / rh, by: -top / rh },
    };
  }
  const scale = Math.max(width / w, height / h);
  const cw = Math.max(1, Math.min(w, Math.round(width / scale)));
  const ch = Math.max(1, Math.min(h, Math.round(height / scale)));
  const left = Math.floor((w - cw) / 2);
  const top = Math.floor((h - ch) / 2);
  return {
    src: { x: left, y: top, w: cw, h: ch },
    dst: { x: 0, y: 0, w: width, h: height },
    geometry: { ax: cw / w, bx: left / w, ay: ch / h, by: top / h },
  };
}
