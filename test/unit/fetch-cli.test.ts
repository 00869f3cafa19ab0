import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultModelsDir,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  fetchModelsCommand,
  SYSTEM_MODELS_DIR,
  type CliIo,
} from '../../src/models/cli.js';
import { loadManifest, type Manifest } from '../../src/models/manifest.js';

const SHARED = resolve(process.cwd(), '../shared/models');
const IMAGES = resolve(process.cwd(), '../shared/images');
const SSD = 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite';
const SAMPLE_FILES = ['cats_and_dogs.jpg', 'grace_hopper.bmp', 'cat.bmp', 'multi_objects.jpg'];

let manifest: Manifest;
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'fetch-cli-'));
  temps.push(d);
  return d;
};
beforeAll(async () => {
  manifest = await loadManifest();
});
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the command with captured output; a never-aborted signal keeps it from touching process signal handlers. */
async function cli(argv: string[], io: Partial<CliIo> = {}, fetchImpl?: typeof fetch) {
  let stdout = '';
  let stderr = '';
  const code = await fetchModelsCommand(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      isTTY: false,
      signal: new AbortController().signal,
      ...io,
    },
    { defaultDir: '/nonexistent/default-dir', ...(fetchImpl ? { fetchImpl } : {}) },
  );
  return { code, stdout, stderr };
}

describe('mobilenet-edge fetch-models', () => {
  it('--help shows usage, options, defaults and the default directory', async () => {
    const { code, stdout, stderr } = await cli(['--help']);
    expect(code).toBe(EXIT_OK);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: mobilenet-edge fetch-models /);
    for (const opt of ['--from DIR', '--dir DIR', '--all', '--force', '--list', '--timeout SEC']) expect(stdout).toContain(opt);
    expect(stdout).toContain('coco_ssd_mobilenet_v1_1.0_quant_2018_06_29 coco_labels cats_and_dogs grace_hopper cat multi_objects');
    expect(stdout).toContain('(default: /nonexistent/default-dir)');
  });

  it('--help documents repeated --from and where samples go', async () => {
    const { stdout } = await cli(['--help']);
    expect(stdout).toMatch(/^Usage: mobilenet-edge fetch-models \[--from DIR\]\.\.\. /);
    expect(stdout).toContain('--from ../shared/models --from ../shared/images');
    expect(stdout).toMatch(/several times to search several directories in order/);
    expect(stdout).toContain('samples/ subdirectory');
    expect(stdout).toContain('/nonexistent/default-dir/samples');
  });

  it('--list prints every entry with kind, backend, input and whether it is present', async () => {
    const dir = tempDir();
    const { code, stdout } = await cli(['--list', '--dir', dir]);
    expect(code).toBe(EXIT_OK);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`manifest: ${manifest.source}`);
    expect(lines[1]).toMatch(new RegExp(`^NAME +KIND +BACKEND +INPUT +DEFAULT +SHA256 +IN ${dir}$`));
    expect(lines).toHaveLength(2 + manifest.models.length);
    expect(stdout).toMatch(/mobilenet_v1_0\.25_128_quant_edgetpu +classification +edgetpu +128x128 +a4cb1e493346… +missing/);
    expect(stdout).toMatch(/ssd_mobilenet_v2_coco_quant_postprocess +ssd +cpu +300x300 +none published +missing/);
    expect(stdout).toMatch(/coco_labels +labels +- +- +yes +dc183f003fc7… +missing/);
    expect(stdout).toMatch(/\ncats_and_dogs +sample +- +- +yes +a2eaa7ad3a1a… +missing\n/);
    expect(stdout).toMatch(/\ngrace_hopper +sample +- +- +yes +c43444bf3b1b… +missing\n/);
    expect(stdout).toMatch(/\ncat +sample +- +- +yes +34f235786382… +missing\n/);
    expect(stdout).toMatch(/\nmulti_objects +sample +- +- +yes +ada6e36b4051… +missing\n/);
  });

  it.skipIf(!existsSync(IMAGES))('--list looks for samples in <dir>/samples/, not in <dir> (needs ../shared/images)', async () => {
    const dir = tempDir();
    copyFileSync(join(IMAGES, 'cat.bmp'), join(dir, 'cat.bmp'));
    mkdirSync(join(dir, 'samples'));
    copyFileSync(join(IMAGES, 'grace_hopper.bmp'), join(dir, 'samples', 'grace_hopper.bmp'));
    writeFileSync(join(dir, 'samples', 'multi_objects.jpg'), 'not a photo');
    const { stdout } = await cli(['--list', '--dir', dir]);
    expect(stdout).toMatch(/\ncat +sample .* missing\n/);
    expect(stdout).toMatch(/\ngrace_hopper +sample .* ok\n/);
    expect(stdout).toMatch(/\nmulti_objects +sample .* SHA256 MISMATCH\n/);
  });

  it.skipIf(!existsSync(SHARED))('--list checks the sha256 of present files (needs ../shared/models)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'coco_labels.txt'), 'tampered\n');
    const { stdout } = await cli(['--list', '--dir', dir]);
    expect(stdout).toMatch(/coco_labels .* SHA256 MISMATCH\n/);
    const shared = await cli(['--list', '--dir', SHARED]);
    expect(shared.stdout).toMatch(/coco_ssd_mobilenet_v1_1\.0_quant_2018_06_29 .* ok\n/);
  });

  it('without network, says how to fetch the files elsewhere and use --from', async () => {
    const offline = (() => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND github.com'), { code: 'ENOTFOUND' }) }))) as unknown as typeof fetch;
    const { code, stderr } = await cli(['--dir', tempDir(), 'ssd_mobilenet_v2_coco_quant_postprocess'], {}, offline);
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toMatch(/No network\? Download ssd_mobilenet_v2_coco_quant_postprocess\.tflite coco_labels\.txt on another machine .* again with --from FOLDER/);
  });

  it('rejects an unknown name with exit 64, listing the known names', async () => {
    const { code, stdout, stderr } = await cli(['--dir', tempDir(), 'yolov8']);
    expect(code).toBe(EXIT_USAGE);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown model "yolov8"');
    for (const e of manifest.models) expect(stderr).toContain(`  ${e.name}\n`);
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--all', 'coco_labels'], 'either --all or names'],
    [['--timeout', 'soon'], '--timeout wants a positive number'],
    [['--dir'], "Option '--dir <value>' argument missing"],
    [['--from', SHARED, '--from='], '--from wants a directory'],
  ])('exits 64 on usage error %j', async (argv, message) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toContain(message);
    expect(stderr).toContain('--help');
  });

  it.skipIf(!existsSync(SHARED))('copies from a mirror, then reports up to date (needs ../shared/models)', async () => {
    const dir = tempDir();
    const first = await cli(['--from', SHARED, '--dir', dir, 'mobilenet_v1_0.25_128_quant.tflite']);
    expect(first.code).toBe(EXIT_OK);
    expect(first.stdout).toContain('copied     mobilenet_v1_0.25_128_quant.tflite: 525598 bytes, sha256 verified\n');
    expect(first.stdout).toContain(`0 fetched, 2 copied, 0 up-to-date, 0 failed (in ${dir})\n`);
    const second = await cli(['--from', SHARED, '--dir', dir, 'mobilenet_v1_0.25_128_quant']);
    expect(second.stdout).toContain(`0 fetched, 0 copied, 2 up-to-date, 0 failed (in ${dir})\n`);
  });

  it.skipIf(!existsSync(SHARED))('exits 1 when an entry fails, naming the missing mirror path (needs ../shared/models)', async () => {
    const dir = tempDir();
    const { code, stderr } = await cli(['--from', SHARED, '--dir', dir, 'mobilenet_v2_1.0_224_quant_edgetpu']);
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toContain(`failed     mobilenet_v2_1.0_224_quant_edgetpu.tflite: not in the mirror: ${join(SHARED, 'mobilenet_v2_1.0_224_quant_edgetpu.tflite')} is missing`);
    expect(readdirSync(dir).sort()).toEqual(['imagenet_labels.txt', 'mobilenet_v2_1.0_224_quant.tflite']);
  });

  it.skipIf(!existsSync(SHARED) || !existsSync(IMAGES))(
    '--from ../shared/models --from ../shared/images copies the default models and the samples, then is up to date',
    async () => {
      const dir = tempDir();
      const argv = ['--from', '../shared/models', '--from', '../shared/images', '--dir', dir];
      const first = await cli(argv);
      expect(first.code).toBe(EXIT_OK);
      // Each file comes from the first mirror that has it.
      expect(first.stderr).toContain(`copying ${SSD} from ${join('../shared/models', SSD)}\n`);
      for (const f of SAMPLE_FILES) expect(first.stderr).toContain(`copying ${f} from ${join('../shared/images', f)}\n`);
      expect(first.stderr).not.toContain('failed');
      expect(first.stdout).toContain(`copied     ${SSD}: 4185023 bytes, sha256 verified\n`);
      expect(first.stdout).toContain('copied     coco_labels.txt: 661 bytes, sha256 verified\n');
      for (const f of SAMPLE_FILES) expect(first.stdout).toMatch(new RegExp(`copied     samples/${f}: \\d+ bytes, sha256 verified\n`));
      expect(first.stdout).toContain(`0 fetched, 6 copied, 0 up-to-date, 0 failed (in ${dir})\n`);
      expect(readdirSync(dir).sort()).toEqual(['coco_labels.txt', SSD, 'samples'].sort());
      expect(readdirSync(join(dir, 'samples')).sort()).toEqual([...SAMPLE_FILES].sort());
      for (const f of SAMPLE_FILES) expect(readFileSync(join(dir, 'samples', f)).equals(readFileSync(join(IMAGES, f))), f).toBe(true);

      const second = await cli(argv);
      expect(second.code).toBe(EXIT_OK);
      expect(second.stdout).toContain(`0 fetched, 0 copied, 6 up-to-date, 0 failed (in ${dir})\n`);
      expect(second.stdout).toContain('up-to-date samples/cat.bmp: sha256 verified\n');
    },
  );

  it.skipIf(!existsSync(SHARED))('names both mirror directories when a sample is in neither (needs ../shared/models)', async () => {
    const dir = tempDir();
    const empty = tempDir();
    const { code, stdout, stderr } = await cli(['--from', '../shared/models', '--from', empty, '--dir', dir, 'cat']);
    expect(code).toBe(EXIT_FAILED);
    expect(stderr).toContain(
      `failed     samples/cat.bmp: not in any mirror: ${join('../shared/models', 'cat.bmp')} and ${join(empty, 'cat.bmp')} are missing\n`,
    );
    expect(stdout).toContain('0 fetched, 0 copied, 0 up-to-date, 1 failed');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('exits 130 when interrupted, fetching nothing', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const dir = tempDir();
    const { code, stderr } = await cli(['--from', tempDir(), '--dir', dir], { signal: ctl.signal });
    expect(code).toBe(EXIT_INTERRUPTED);
    expect(stderr).toContain('aborted before it started');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('defaultModelsDir', () => {
  it('is <root>/models in a checkout (package.json and src/ two levels above the module)', () => {
    const root = tempDir();
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'src'));
    expect(defaultModelsDir(pathToFileURL(join(root, 'dist', 'models', 'cli.js')).href)).toBe(join(root, 'models'));
  });

  it('is /var/lib/mobilenet-edge/models for an installed package (no src/)', () => {
    const root = tempDir();
    writeFileSync(join(root, 'package.json'), '{}');
    expect(defaultModelsDir(pathToFileURL(join(root, 'dist', 'models', 'cli.js')).href)).toBe(SYSTEM_MODELS_DIR);
  });

  it('is this checkout\'s models/ when run from src/', () => {
    expect(defaultModelsDir()).toBe(join(process.cwd(), 'models'));
  });
});
