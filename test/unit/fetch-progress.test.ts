import { describe, expect, it } from 'vitest';
import { createProgressBar, renderLine } from '../../src/models/progress.js';

function sink() {
  const writes: string[] = [];
  return { writes, out: { write: (s: string) => writes.push(s) } };
}

describe('createProgressBar', () => {
  it('writes nothing when stderr is not a terminal', () => {
    const { writes, out } = sink();
    const bar = createProgressBar(out, { enabled: false });
    bar.update('a.tflite', 10, 100);
    bar.update('a.tflite', 100, 100);
    bar.done();
    expect(writes).toEqual([]);
  });

  it('redraws in place at most every 100 ms, but always draws the last update', () => {
    let t = 0;
    const { writes, out } = sink();
    const bar = createProgressBar(out, { enabled: true, now: () => t });
    bar.update('a.tflite', 0, 1000);
    t = 50;
    bar.update('a.tflite', 100, 1000);
    t = 99;
    bar.update('a.tflite', 200, 1000);
    expect(writes).toHaveLength(1);
    t = 100;
    bar.update('a.tflite', 300, 1000);
    t = 101;
    bar.update('a.tflite', 1000, 1000);
    expect(writes).toHaveLength(3);
    expect(writes.every((w) => w.startsWith('\r'))).toBe(true);
    expect(writes[2]).toContain('100%');
    bar.done();
    expect(writes[3]).toBe('\r\x1b[K');
  });

  it('draws at once when the file changes', () => {
    const { writes, out } = sink();
    const bar = createProgressBar(out, { enabled: true, now: () => 0 });
    bar.update('a.tflite', 1, 10);
    bar.update('b.tflite', 1, 10);
    expect(writes.map((w) => w.slice(1, 2))).toEqual(['a', 'b']);
  });

  it('never writes a line wider than the terminal', () => {
    const { writes, out } = sink();
    createProgressBar(out, { enabled: true, columns: 30 }).update('x'.repeat(100), 5, 10);
    expect(writes[0]!.replace('\r', '').replace('\x1b[K', '').length).toBeLessThanOrEqual(29);
  });

  it('does not draw after done() unless updated again', () => {
    const { writes, out } = sink();
    const bar = createProgressBar(out, { enabled: true });
    bar.done();
    expect(writes).toEqual([]);
  });
});

describe('renderLine', () => {
  it('shows percent and MB', () => {
    expect(renderLine('m.tflite', 1_048_576, 4 * 1_048_576)).toBe('m.tflite [######------------------]  25%  1.0/4.0 MB');
  });

  it('shows only MB when the size is unknown', () => {
    expect(renderLine('m.tflite', 3 * 1_048_576, null)).toBe('m.tflite  3.0 MB');
  });
});
