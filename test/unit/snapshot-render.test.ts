import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { escapeXml, labelColour, OUTLINE_COLOURS, overlaySvg, renderSnapshot, snapshotSize } from '../../src/snapshots/render.js';

const black = (width: number, height: number) => ({ width, height, data: Buffer.alloc(width * height * 3) });

async function decode(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): [number, number, number] => {
    const i = (y * info.width + x) * info.channels;
    return [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
  };
  const bright = (x: number, y: number): number => Math.max(...at(x, y));
  return { info, at, bright };
}

describe('renderSnapshot', () => {
  it('gives a JPEG scaled down to maxWidth with the aspect kept', async () => {
    const jpeg = await renderSnapshot(black(1280, 720), [], { maxWidth: 640 });
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const meta = await sharp(jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([640, 360]);
  });

  it('never scales up and defaults to 640 wide', async () => {
    expect(await sharp(await renderSnapshot(black(320, 240), [])).metadata()).toMatchObject({ width: 320, height: 240 });
    expect(await sharp(await renderSnapshot(black(1920, 1080), [])).metadata()).toMatchObject({ width: 640, height: 360 });
  });

  it('draws the box outline where the box is, and nothing inside it or far outside', async () => {
    // 1280x720 scaled to 640x360: the box spans x 128..384, y 108..288 in the snapshot. Not square, so a swapped x/y shows.
    const box = { xmin: 0.2, ymin: 0.3, xmax: 0.6, ymax: 0.8 };
    const jpeg = await renderSnapshot(black(1280, 720), [{ box, label: 'person', score: 0.87 }], { maxWidth: 640, quality: 90 });
    const { info, bright } = await decode(jpeg);
    expect([info.width, info.height]).toEqual([640, 360]);
    // On each of the four edges, away from the corners and from the label tag (which sits above the top-left corner).
    for (const [x, y] of [
      [256, 288], // bottom edge
      [128, 200], // left edge
      [384, 200], // right edge
      [300, 108], // top edge, right of the tag
    ] as const) {
      expect(bright(x, y), `outline at ${x},${y}`).toBeGreaterThan(120);
    }
    // Inside the box, well outside it, and where the edges of the x/y-swapped box would be: still black (JPEG noise allowed).
    for (const [x, y] of [
      [256, 200],
      [160, 250],
      [350, 130],
      [40, 320],
      [600, 20],
      [600, 340],
      [500, 200],
      [256, 330],
      [512, 150], // right edge if x and y were swapped
      [300, 72], // top edge if x and y were swapped
    ] as const) {
      expect(bright(x, y), `dark at ${x},${y}`).toBeLessThan(40);
    }
  });

  it('draws the outline in the label colour', async () => {
    const jpeg = await renderSnapshot(black(640, 480), [{ box: { xmin: 0.1, ymin: 0.2, xmax: 0.9, ymax: 0.8 }, label: 'car', score: 0.5 }]);
    const { at } = await decode(jpeg);
    const hex = labelColour('car');
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const got = at(320, Math.round(0.8 * 480)); // bottom edge
    for (let c = 0; c < 3; c++) expect(Math.abs((got[c] ?? 0) - (want[c] ?? 0)), `channel ${c} of ${got} vs ${want}`).toBeLessThan(50);
  });

  it('outlines motion and detection regions dashed, in their own colours, without tags', () => {
    const svg = overlaySvg(640, 360, [], { motion: [{ xmin: 0.1, ymin: 0.1, xmax: 0.2, ymax: 0.2 }], regions: [{ xmin: 0.05, ymin: 0.05, xmax: 0.3, ymax: 0.5 }] });
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain(`stroke="${OUTLINE_COLOURS.motion}"`);
    expect(svg).toContain(`stroke="${OUTLINE_COLOURS.regions}"`);
    expect(svg).not.toContain('<text');
  });

  it('draws the outlines into the JPEG even when there is no detection', async () => {
    const jpeg = await renderSnapshot(black(640, 480), [], {}, { regions: [{ xmin: 0.25, ymin: 0.25, xmax: 0.75, ymax: 0.75 }] });
    const { bright } = await decode(jpeg);
    // Somewhere along the region's left edge the white dashes show; its inside stays black.
    const edge = Math.max(...Array.from({ length: 40 }, (_, i) => bright(160, 130 + i)));
    expect(edge).toBeGreaterThan(150);
    expect(bright(320, 240)).toBeLessThan(30);
  });

  it('renders labels that would break markup, and boxes at or past the frame edge', async () => {
    const boxes = [
      { box: { xmin: 0, ymin: 0, xmax: 1, ymax: 1 }, label: '<script>&"\'\u0001', score: 1 },
      { box: { xmin: -0.2, ymin: 0.9, xmax: 1.3, ymax: 1.4 }, label: 'x]]>', score: 0.1 },
    ];
    const meta = await sharp(await renderSnapshot(black(320, 240), boxes)).metadata();
    expect(meta.width).toBe(320);
  });

  it('rejects a buffer that does not match the frame size', async () => {
    await expect(renderSnapshot({ width: 10, height: 10, data: Buffer.alloc(10) }, [])).rejects.toThrow(/300/);
  });
});

describe('snapshot helpers', () => {
  it('escapes XML specials and drops forbidden control characters', () => {
    expect(escapeXml(`a<b>&"c'\u0000d`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;d');
    expect(overlaySvg(100, 100, [{ box: { xmin: 0, ymin: 0, xmax: 1, ymax: 1 }, label: '</svg><x>', score: 0.5 }])).not.toContain('</svg><x>');
  });

  it('gives a label the same colour every time, and different labels different colours mostly', () => {
    expect(labelColour('person')).toBe(labelColour('person'));
    expect(labelColour('person')).toMatch(/^#[0-9a-f]{6}$/);
    const colours = new Set(['person', 'car', 'dog', 'cat', 'bicycle', 'truck'].map(labelColour));
    expect(colours.size).toBeGreaterThan(3);
  });

  it('computes the snapshot size', () => {
    expect(snapshotSize(1920, 1080, 640)).toEqual({ width: 640, height: 360 });
    expect(snapshotSize(300, 200, 640)).toEqual({ width: 300, height: 200 });
  });
});
