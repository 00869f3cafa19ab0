import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { budgetTable, formatMeasure, measureModel } from '../inspect/measure.js';
import { ModelFileError } from '../inference/model/read-model.js';
import { formatReport } from '../inspect/format-text.js';
import { inspectMobilenetV1, inspectModelFile } from '../inspect/inspect-model.js';
import type { InspectReport } from '../inspect/types.js';
import { EXIT, UsageError, type CliIo } from './exit-codes.js';

export const INSPECT_HELP = `Usage: mobilenet-edge inspect MODEL [--json] [--measure [--fps F] [--threads N] [--seconds S]]
       mobilenet-edge inspect --mobilenet-v1 [--alpha A] [--resolution R] [--classes N] [--json]

Shows what a model costs and why, from the .tflite file alone (nothing is run): per operator the input and
output shapes, kernel, stride, padding, mult-adds and parameters; the totals; the share of each layer type
(1x1 conv, depthwise, full conv, fully connected) as in Table 2 of the MobileNet paper (arXiv 1704.04861);
each depthwise + pointwise pair against one standard conv of the same shapes, next to 1/N + 1/Dk^2;
quantization; the family recognised (MobileNet v1/v2, SSD head) with its width multiplier alpha and input
resolution; the metadata (name, description, labels, normalisation).
An _edgetpu model is one edgetpu-custom-op whose layers are not visible: inspect shows its payload size,
the operators left on the CPU, and takes the cost of what runs on the TPU from the CPU twin (the same file
name without _edgetpu) when it is beside it.

With --mobilenet-v1, prices MobileNet v1 from the paper's Table 1 for any alpha and resolution, so you can
plan before you download.

Counting convention (the paper's; it reproduces its 569 M / 4.2 M and TF-slim's per-model table):
  conv       mult-adds = outH*outW*kH*kW*(inC/groups)*outC; a 1x1 classifier conv counts as a conv 1x1
  depthwise  mult-adds = outH*outW*kH*kW*C*depthMultiplier
  FC         mult-adds = in*out
  pooling, add, reshape, softmax, concatenation, post-processing, custom ops: listed, 0 mult-adds
  parameters = elements of the weight and bias tensors (not bytes); a bias is the BatchNorm folded in
               at export, so counts are 0.3% above the paper's weights-only figures

Options:
  --json              one JSON object: {"model","family","alpha","resolution","totals":{"macs","params"},
                      "byType":{type:{"layers","macs","params","macsShare","paramsShare"}},"layers":[...],
                      "costFrom","input","separablePairs",...} plus "quantization", "edgetpu", "metadata"
                      for files; shares are fractions (0..1); unknown costs are null
  --mobilenet-v1      analytic MobileNet v1 instead of a file
  --alpha A           width multiplier, 0 < A <= 4 (default 1)
  --resolution R      input height and width in pixels (default 224)
  --classes N         classifier outputs (default 1000, as in the paper; Coral's files have 1001)
  --measure           also run the model (CPU, in an inference process like the daemon's) for --seconds (3),
                      report its latency per million mult-adds here, and estimate which MobileNet v1 width and
                      resolution fit --fps F (default 10) on this machine, scaled from this model's rate (best
                      for sizes near it: measure the model closest to your choice); JSON adds "measured", "budget"
  --threads N         CPU threads for --measure (default 1)
  -h, --help          this text

Exit codes: 0 ok, 64 bad usage, 65 the file is not a usable model, 66 the file does not exist.
`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

function alphaOf(v: string | undefined): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!(n > 0 && n <= 4)) throw new UsageError(`--alpha must be a number above 0 and at most 4, got "${v}"`);
  return n;
}

function positiveNumber(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

export async function inspectCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      'mobilenet-v1': { type: 'boolean' },
      alpha: { type: 'string' },
      resolution: { type: 'string' },
      classes: { type: 'string' },
      measure: { type: 'boolean' },
      fps: { type: 'string' },
      threads: { type: 'string' },
      seconds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(INSPECT_HELP);
    return EXIT.OK;
  }
  const analytic = values['mobilenet-v1'] === true;
  if (values.measure && analytic) throw new UsageError('--measure times a real model: give a MODEL file (e.g. mobilenet_v1_0.25_128_quant.tflite)');
  if (!values.measure) {
    const stray = (['fps', 'threads', 'seconds'] as const).find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies with --measure`);
  }
  if (analytic && positionals.length > 0) throw new UsageError('give either a MODEL file or --mobilenet-v1, not both');
  if (!analytic) {
    const stray = (['alpha', 'resolution', 'classes'] as const).find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies with --mobilenet-v1 (a file's own shapes decide its cost)`);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'inspect needs a MODEL file or --mobilenet-v1' : 'inspect takes one MODEL file');
  }

  let report: InspectReport;
  if (analytic) {
    report = inspectMobilenetV1({
      alpha: alphaOf(values.alpha),
      resolution: positiveInt('resolution', values.resolution, 224),
      classes: positiveInt('classes', values.classes, 1000),
    });
  } else {
    const file = positionals[0]!;
    if (!existsSync(file)) {
      io.stderr.write(`error: ${file}: no such file\n`);
      return EXIT.NO_INPUT;
    }
    try {
      report = await inspectModelFile(file);
    } catch (err) {
      // The reader's errors already name the file; anything else is a model we could parse but not price.
      const message = err instanceof ModelFileError ? err.message : `${file}: cannot inspect: ${(err as Error).message}`;
      io.stderr.write(`error: ${message}\n`);
      return EXIT.DATA;
    }
  }
  if (!values.measure) {
    io.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
    return EXIT.OK;
  }
  if (report.edgetpu || report.totals.macs === null || !report.input) {
    io.stderr.write(`error: ${positionals[0]}: --measure runs the model on the CPU: give the CPU twin, not an Edge TPU build\n`);
    return EXIT.DATA;
  }
  const fps = positiveNumber('fps', values.fps, 10);
  const threads = positiveInt('threads', values.threads, 1);
  const seconds = positiveNumber('seconds', values.seconds, 3);
  const inputBytes = report.input.reduce((a, b) => a * b, 1);
  const measured = await measureModel(positionals[0]!, report.totals.macs, inputBytes, threads, seconds);
  const budget = budgetTable(measured.msPerMMacs, fps);
  if (values.json) io.stdout.write(JSON.stringify({ ...report, measured, budget: { fps, rows: budget } }) + '\n');
  else io.stdout.write(formatReport(report) + formatMeasure(measured, fps, budget));
  return EXIT.OK;
}
