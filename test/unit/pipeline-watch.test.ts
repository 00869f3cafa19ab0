import { describe, expect, it } from 'vitest';
import { PipelineWatch, type CameraProgress } from '../../src/system/pipeline-watch.js';

const cam = (captured: number, settled: number, detectFps = 0, camera = 'door'): CameraProgress => ({ camera, captured, settled, detectFps });

describe('PipelineWatch (the systemd watchdog judgement)', () => {
  it('is content while frames are finished, however many are dropped', () => {
    const w = new PipelineWatch(30_000);
    expect(w.check([cam(0, 0)], 0)).toEqual([]);
    expect(w.check([cam(900, 10)], 30_000)).toEqual([]);
    expect(w.check([cam(1800, 11)], 60_000)).toEqual([]);
  });

  it('names a camera whose frames arrive while none is finished for the grace period', () => {
    const w = new PipelineWatch(30_000);
    w.check([cam(100, 10), cam(5, 5, 0, 'yard')], 0);
    expect(w.check([cam(200, 10), cam(5, 5, 0, 'yard')], 30_000)).toEqual([]); // frames waiting since now
    expect(w.check([cam(300, 10), cam(5, 5, 0, 'yard')], 50_000)).toEqual([]);
    expect(w.check([cam(400, 10), cam(5, 5, 0, 'yard')], 60_000)).toEqual([{ camera: 'door', waitingMs: 30_000 }]);
    // One frame finished: content again.
    expect(w.check([cam(500, 11), cam(5, 5, 0, 'yard')], 90_000)).toEqual([]);
  });

  it('is content with a camera that gets no frames: offline, or a files camera at the end of its list', () => {
    const w = new PipelineWatch(30_000);
    w.check([cam(9, 9)], 0);
    for (let t = 30_000; t <= 600_000; t += 30_000) expect(w.check([cam(9, 9)], t)).toEqual([]);
  });

  it('still names a camera whose waiting frames stay unfinished after its frames stop coming', () => {
    const w = new PipelineWatch(30_000);
    w.check([cam(10, 9)], 0);
    w.check([cam(11, 9)], 30_000); // a frame came, nothing finished
    expect(w.check([cam(11, 9)], 60_000)).toEqual([{ camera: 'door', waitingMs: 30_000 }]);
  });

  it('gives a camera with a low detect.fps three of its intervals', () => {
    const w = new PipelineWatch(30_000);
    w.check([cam(0, 0, 0.05)], 0); // one inference every 20 s: 60 s of grace
    w.check([cam(30, 0, 0.05)], 30_000);
    expect(w.check([cam(60, 0, 0.05)], 60_000)).toEqual([]);
    expect(w.check([cam(90, 0, 0.05)], 89_000)).toEqual([]);
    expect(w.check([cam(120, 0, 0.05)], 90_000)).toEqual([{ camera: 'door', waitingMs: 60_000 }]);
  });
});
