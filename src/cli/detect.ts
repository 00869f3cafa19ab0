import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImageFile, ImageTooLargeError } from '../camera/decode.js';
import { applyFilters } from '../inference/filters.js';
import { planModel } from '../inference/model-plan.js';
import { prepareInput, toFrameBox } from '../inference/preprocess.js';
import type { ResizeMode } from '../pixels/resize-plan.js';
import { TfliteDetector } from '../inference/tflite-detector.js';
import type { Detection } from '../inference/types.js';
import { silentLogger } from '../system/logger.js';
import { packageRoot } from '../system/paths.js';
import { EXIT, UsageError, type CliIo } from './exit-codes.js';
import { CliClassifier } from './detect-classifier.js';

export const DETECT_HELP = `Usage: mobilenet-edge detect IMAGE... [options]

Runs the model once on each image (JPEG, PNG, WebP, BMP) and prints what it finds.

Options:
  --model FILE        .tflite model (default: models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite)
  --labels FILE       labels file, when the model embeds none
  --kind K            auto | ssd | classification (default auto)
  --min-score S       drop results below S (default 0.5 for detectors, 0 for classifiers)
  --top-k N           classifier results per image (default 5)
  --resize MODE       stretch | letterbox | crop (default stretch)
  --threads N         CPU threads for inference (default 1)
  --classifier FILE   a second-stage classifier (.tflite): each detection is cropped from the full image (square,
                      with a margin) and classified; its best class becomes the detection's subLabel/subScore
  --classifier-labels FILE
                      the classifier's labels file, when its model embeds none
  --classify-objects L[,L...]
                      classify only detections with these labels (default: every detection)
  --classify-min-score S
                      a sub-label needs at least this classifier score (default 0.3)
  --json              one JSON object per image and line:
                      {"image","width","height","model","kind","results":[{"label","classId","score","box"?,
                      "subLabel"?,"subScore"?}],"classifier"?}
  -h, --help          this text

Exit codes: 0 all images done, 65 an image or the model could not be used, 66 a file is missing, 64 bad usage.
`;

const DEFAULT_MODEL = 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite';

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

export async function detectCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' },
      labels: { type: 'string' },
      kind: { type: 'string', default: 'auto' },
      'min-score': { type: 'string' },
      'top-k': { type: 'string' },
      resize: { type: 'string', default: 'stretch' },
      threads: { type: 'string' },
      classifier: { type: 'string' },
      'classifier-labels': { type: 'string' },
      'classify-objects': { type: 'string' },
      'classify-min-score': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(DETECT_HELP);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError('detect needs at least one image');
  const kind = values.kind!;
  if (!['auto', 'ssd', 'classification'].includes(kind)) throw new UsageError(`--kind must be auto, ssd or classification, got "${kind}"`);
  const resize = values.resize! as ResizeMode;
  if (!['stretch', 'letterbox', 'crop'].includes(resize)) throw new UsageError(`--resize must be stretch, letterbox or crop, got "${resize}"`);
  const topK = positiveInt('top-k', values['top-k'], 5);
  const threads = positiveInt('threads', values.threads, 1);
  let minScore: number | undefined;
  if (values['min-score'] !== undefined) {
    minScore = Number(values['min-score']);
    if (!(minScore >= 0 && minScore <= 1)) throw new UsageError(`--min-score must be between 0 and 1, got "${values['min-score']}"`);
  }

  const classifyMinScore = values['classify-min-score'] === undefined ? 0.3 : Number(values['classify-min-score']);
  if (!(classifyMinScore >= 0 && classifyMinScore <= 1)) throw new UsageError(`--classify-min-score must be between 0 and 1, got "${values['classify-min-score']}"`);
  const classifyObjects = values['classify-objects']?.split(',').map((l) => l.trim()).filter(Boolean);
  if (!values.classifier && (classifyObjects || values['classifier-labels'] || values['classify-min-score'] !== undefined)) {
    throw new UsageError('--classify-objects, --classifier-labels and --classify-min-score need --classifier MODEL');
  }
  if (classifyObjects?.length === 0) throw new UsageError('--classify-objects needs at least one label');

  const modelPath = values.model ?? join(packageRoot(), 'models', DEFAULT_MODEL);
  const classifierFiles = values.classifier ? [values.classifier, ...(values['classifier-labels'] ? [values['classifier-labels']] : [])] : [];
  for (const f of [modelPath, ...(values.labels ? [values.labels] : []), ...classifierFiles]) {
    if (!existsSync(f)) {
      const hint = values.model ? '' : ' (fetch it: mobilenet-edge fetch-models)';
      io.stderr.write(`error: ${f}: no such file${hint}\n`);
      return EXIT.NO_INPUT;
    }
  }

  let detector: TfliteDetector;
  let classifier: CliClassifier | undefined;
  try {
    const plan = await planModel(modelPath, { kind: kind as 'auto', labelsPath: values.labels ?? null, topK });
    detector = new TfliteDetector(plan, { backend: 'cpu', threads, inferenceTimeoutMs: 60_000 }, silentLogger());
    await detector.start();
  } catch (err) {
    io.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT.DATA;
  }
  if (values.classifier) {
    try {
      if (detector.model.kind !== 'ssd') throw new Error(`--classifier classifies what a detector finds, but ${detector.model.name} is a classifier itself`);
      classifier = await CliClassifier.start(values.classifier, { labels: values['classifier-labels'] ?? null, minScore: classifyMinScore, threads });
    } catch (err) {
      io.stderr.write(`error: ${(err as Error).message}\n`);
      await detector.stop();
      return EXIT.DATA;
    }
  }

  const model = detector.model;
  const filters = { minScore: minScore ?? (model.kind === 'ssd' ? 0.5 : 0), labels: [], perLabel: {}, maxResults: 100 };
  let code: number = EXIT.OK;
  try {
    for (const image of positionals) {
      if (!existsSync(image)) {
        io.stderr.write(`error: ${image}: no such file\n`);
        code = EXIT.NO_INPUT;
        continue;
      }
      try {
        const decoded = await decodeImageFile(image);
        const prepared = await prepareInput(decoded, model.inputWidth, model.inputHeight, resize);
        const out = await detector.detect(prepared.data);
        const mapped: Detection[] = out.results.map((d) => (d.box ? { ...d, box: toFrameBox(d.box, prepared.geometry) } : d));
        const filtered = applyFilters(mapped, filters);
        const classified = classifier ? await classifier.apply(decoded, image, filtered, classifyObjects) : undefined;
        const results = classified?.results ?? filtered;
        if (values.json) {
          const chain = classifier ? { classifier: { model: classifier.name, crops: classified!.crops } } : {};
          io.stdout.write(JSON.stringify({ image, width: decoded.width, height: decoded.height, model: model.name, kind: model.kind, results, ...chain }) + '\n');
        } else {
          io.stdout.write(`${image} ${decoded.width}x${decoded.height} (${model.kind}, ${model.name}, ${out.inferenceMs.toFixed(1)} ms)\n`);
          if (classifier) io.stdout.write(`  classified by ${classifier.name}: ${classified!.crops} crop(s), ${classified!.ms.toFixed(1)} ms\n`);
          if (results.length === 0) io.stdout.write('  nothing above the score threshold\n');
          for (const r of results) {
            const box = r.box ? `  box x ${r.box.xmin.toFixed(3)}-${r.box.xmax.toFixed(3)} y ${r.box.ymin.toFixed(3)}-${r.box.ymax.toFixed(3)}` : '';
            const sub = r.subLabel !== undefined ? `  -> ${r.subLabel} ${r.subScore!.toFixed(3)}` : '';
            io.stdout.write(`  ${r.label.padEnd(24)} ${r.score.toFixed(3)}  (class ${r.classId})${box}${sub}\n`);
          }
        }
      } catch (err) {
        // A refused bomb's reason already says what is wrong and the limit; "cannot decode" would misname it.
        const why = err instanceof ImageTooLargeError ? err.reason : (err as Error).message;
        io.stderr.write(`error: ${image}: ${why}\n`);
        code = EXIT.DATA;
      }
    }
  } finally {
    await Promise.all([detector.stop(), classifier?.stop()]);
  }
  return code;
}
