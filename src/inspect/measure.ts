import { runRawLoop } from '../bench/raw-loop.js';
import { mobilenetV1Layers } from './mobilenet-v1-analytic.js';
import { totalsOf } from './layer-cost.js';

export interface Measured {
  threads: number;
  inferenceMsP50: number;
  fps: number;
  /** Milliseconds per million mult-adds on this machine, from this model: the yardstick for the budget table. */
  msPerMMacs: number;
}

export interface BudgetRow {
  alpha: number;
  resolution: number;
  macs: number;
  predictedMs: number;
  fits: boolean;
}

export const BUDGET_ALPHAS = [0.25, 0.5, 0.75, 1];
export const BUDGET_RESOLUTIONS = [128, 160, 192, 224];

/** Times the model in an inference host (the daemon's own runtime path) for `seconds`, after a short warm-up. */
export async function measureModel(path: string, macs: number, inputBytes: number, threads: number, seconds: number): Promise<Measured> {
  // A few different pictures: an all-zero input can take shortcuts a camera frame does not.
  const inputs = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: inputBytes }, (_v, i) => (i * (31 + k * 7)) % 251));
  const raw = await runRawLoop({ modelPath: path, threads, inputs, time: { warmupMs: Math.min(1000, seconds * 250), measureMs: seconds * 1000 } });
  const p50 = raw.inferenceMs.p50;
  return { threads, inferenceMsP50: p50, fps: raw.fps, msPerMMacs: p50 / (macs / 1e6) };
}

/**
 * Which MobileNet v1 width and resolution would fit a frame-rate budget here, scaling the measured cost per
 * mult-add. An estimate, best near the measured model: small models spend more per mult-add in fixed costs and
 * thin layers (measured here: 0.18 ms per million for v1 0.25-128, 0.077 for v1 0.75-192), so measuring a small model
 * overestimates large ones and the other way round.
 */
export function budgetTable(msPerMMacs: number, fps: number, classes = 1001): BudgetRow[] {
  const budgetMs = 1000 / fps;
  const rows: BudgetRow[] = [];
  for (const alpha of BUDGET_ALPHAS) {
    for (const resolution of BUDGET_RESOLUTIONS) {
      const macs = totalsOf(mobilenetV1Layers({ alpha, resolution, classes })).macs ?? 0;
      const predictedMs = (msPerMMacs * macs) / 1e6;
      rows.push({ alpha, resolution, macs, predictedMs: Math.round(predictedMs * 100) / 100, fits: predictedMs <= budgetMs });
    }
  }
  return rows;
}

export function formatMeasure(m: Measured, fps: number, rows: BudgetRow[]): string {
  const out = [
    '',
    `Measured here (${m.threads} thread${m.threads === 1 ? '' : 's'}): ${m.inferenceMsP50.toFixed(2)} ms p50, ${m.fps.toFixed(1)} fps, ${m.msPerMMacs.toFixed(3)} ms per million mult-adds`,
    `MobileNet v1 at ${fps} fps (budget ${(1000 / fps).toFixed(1)} ms), estimated from that rate:`,
    `  alpha \\ res  ${BUDGET_RESOLUTIONS.map((r) => String(r).padStart(9)).join('')}`,
  ];
  for (const alpha of BUDGET_ALPHAS) {
    const cells = BUDGET_RESOLUTIONS.map((res) => {
      const r = rows.find((x) => x.alpha === alpha && x.resolution === res)!;
      return `${r.predictedMs.toFixed(1)}${r.fits ? ' ok' : '   '}`.padStart(9);
    });
    out.push(`  ${String(alpha).padEnd(11)}${cells.join('')}`);
  }
  return out.join('\n') + '\n';
}
