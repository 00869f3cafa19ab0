import { describe, expect, it } from 'vitest';
import { INSPECT_HELP, inspectCommand } from '../../src/cli/inspect.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { captureIo } from '../helpers/cli.js';

describe('inspect: command line', () => {
  it('--help prints the usage with the counting convention', async () => {
    const io = captureIo();
    expect(await inspectCommand(['--help'], io)).toBe(0);
    expect(io.out()).toBe(INSPECT_HELP);
    expect(INSPECT_HELP).toMatch(/outH\*outW\*kH\*kW\*\(inC\/groups\)\*outC/);
    expect(INSPECT_HELP).toMatch(/outH\*outW\*kH\*kW\*C\*depthMultiplier/);
    expect(INSPECT_HELP).toMatch(/weight and bias tensors/);
  });

  it.each([
    [[], /needs a MODEL file or --mobilenet-v1/],
    [['a.tflite', 'b.tflite'], /one MODEL file/],
    [['a.tflite', '--mobilenet-v1'], /not both/],
    [['a.tflite', '--alpha', '0.5'], /--alpha only applies with --mobilenet-v1/],
    [['--mobilenet-v1', '--alpha', '0'], /--alpha must be/],
    [['--mobilenet-v1', '--alpha', 'wide'], /--alpha must be/],
    [['--mobilenet-v1', '--resolution', '22.5'], /--resolution must be a positive integer/],
    [['--mobilenet-v1', '--classes=-3'], /--classes must be a positive integer/],
    [['--mobilenet-v1', '--measure'], /--measure times a real model: give a MODEL file/],
    [['--mobilenet-v1', '--fps', '10'], /--fps only applies with --measure/],
  ])('%j is a usage error', async (argv, message) => {
    await expect(inspectCommand(argv, captureIo())).rejects.toThrow(UsageError);
    await expect(inspectCommand(argv, captureIo())).rejects.toThrow(message);
  });

  it('an unknown option is parseArgs\' usage error (main maps it to 64)', async () => {
    await expect(inspectCommand(['--bogus'], captureIo())).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  it('--mobilenet-v1 --json gives the documented keys, defaulting to alpha 1 at 224', async () => {
    const io = captureIo();
    expect(await inspectCommand(['--mobilenet-v1', '--json'], io)).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!);
    expect(Object.keys(r).slice(0, 7)).toEqual(['model', 'family', 'alpha', 'resolution', 'totals', 'byType', 'layers']);
    expect(r).toMatchObject({ family: 'MobileNet v1', alpha: 1, resolution: 224 });
    expect(Object.keys(r.byType)).toEqual(['conv1x1', 'depthwise', 'conv', 'fullyConnected', 'other']);
    expect(Object.keys(r.byType.conv1x1)).toEqual(['layers', 'macs', 'params', 'macsShare', 'paramsShare']);
    expect(r.totals.macs).toBe(568_740_352);
    expect(r.layers).toHaveLength(30);
    expect(io.err()).toBe('');
  });

  it('--mobilenet-v1 prints the totals and the Table 2 shares as text', async () => {
    const io = captureIo();
    expect(await inspectCommand(['--mobilenet-v1', '--alpha', '0.5', '--resolution', '160'], io)).toBe(0);
    expect(io.out()).toContain('Total: 76.52 M mult-adds, 1.326 M parameters');
    expect(io.out()).toMatch(/conv 1x1\s+13\s+[\d,]+\s+89\.92%/);
    expect(io.out()).toContain('13 pairs:');
  });
});
