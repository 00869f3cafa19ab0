import { describe, expect, it } from 'vitest';
import { cliTestMs } from '../helpers/budgets.js';
import { runCli } from '../helpers/cli.js';
import { V1_025 } from '../helpers/paths.js';

// Needs src/main.ts to route 'inspect' to inspectCommand (COMMANDS table): fails with 64 "unknown command" until then.
describe('mobilenet-edge inspect', { timeout: cliTestMs(1) }, () => {
  it('--json on MobileNet v1 0.25-128: one object with the cost, the family and the Table 2 shares', async () => {
    const r = await runCli(['inspect', V1_025, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model: 'mobilenet_v1_0.25_128_quant.tflite', family: 'MobileNet v1', alpha: 0.25, resolution: 128 });
    expect(Math.abs(out.totals.macs / 14e6 - 1)).toBeLessThan(0.05);
    expect(Math.abs(out.totals.params / 0.47e6 - 1)).toBeLessThan(0.05);
    expect(out.byType.conv1x1.macsShare).toBeGreaterThan(0.8);
    expect(out.layers).toHaveLength(31);
  });
});
