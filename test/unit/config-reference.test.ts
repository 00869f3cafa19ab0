import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { replaceBlock } from '../../scripts/config-docs.js';
import { appSchema, cameraSchemas, classifierSchema, commonCameraSchema, renderConfigReference } from '../../src/config/index.js';
import { leaves, type SchemaTree } from '../../src/config/setting.js';
import { cliTestMs } from '../helpers/budgets.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const reference = renderConfigReference();
/** The table row of `key` inside `section` (the text after a heading; source types reuse key paths). */
const rowOf = (key: string, section = reference): string | undefined =>
  section.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
const sourceSection = (type: string): string => reference.split(`#### Source type \`${type}\``)[1]?.split('####')[0] ?? '';

describe('renderConfigReference', () => {
  const all: [string, SchemaTree, string][] = [
    ['', appSchema, reference],
    ['cameras.<name>.', commonCameraSchema, reference],
    ...Object.entries(cameraSchemas).map(([type, s]): [string, SchemaTree, string] => ['cameras.<name>.source.', s.source, sourceSection(type)]),
    ['classifiers[i].', classifierSchema, reference.split('### Classifier keys')[1] ?? ''],
  ];

  it('has one row per schema key, with its doc, global and per source type', () => {
    let rows = 0;
    for (const [prefix, schema, section] of all) {
      expect(section.length).toBeGreaterThan(0);
      for (const [key, s] of leaves(schema)) {
        if (prefix.endsWith('source.') && key === 'type') continue; // shown once among the common camera keys
        const row = rowOf(prefix + key, section);
        expect(row, `${prefix}${key}`).toBeDefined();
        expect(row).toContain(s.doc.replace(/\|/g, '\\|'));
        rows++;
      }
    }
    expect(reference.split('\n').filter((l) => l.startsWith('| `')).length).toBe(rows);
  });

  it('shows format, default and environment variable', () => {
    expect(rowOf('mqtt.url')).toMatch(/\| URL \(mqtt, mqtts, ws, wss, tcp, ssl\) \| `"mqtt:\/\/127\.0\.0\.1:1883"` \| `MOBILENET_EDGE_MQTT_URL` \|$/);
    expect(rowOf('detector.backend')).toContain('one of auto \\| edgetpu \\| cpu');
    expect(rowOf('detector.threads')).toContain('| integer 0..16 | `1` |');
    expect(rowOf('device.id')).toContain('| the host name | `MOBILENET_EDGE_DEVICE_ID` |');
    expect(rowOf('cameras.<name>.source.type')).toContain('| one of files \\| ffmpeg \\| rpicam | required |');
    expect(rowOf('cameras.<name>.source.path')).toContain("Relative paths are resolved against the config file's directory.");
    expect(rowOf('cameras.<name>.source.fps', sourceSection('ffmpeg'))).toContain('Frame rate ffmpeg delivers (-r). | number 1/86400..1000 (one frame a day at least) | `10` |');
    expect(rowOf('cameras.<name>.source.inputOptions')).toContain('| array of strings | `[]` |');
    expect(rowOf('cameras.<name>.source.codec')).toContain('one of yuv420 \\| mjpeg | `"yuv420"`');
    expect(rowOf('mqtt.password')).toContain('Sensitive: redacted in output.');
    expect(reference).not.toContain(`\`${JSON.stringify(os.hostname())}\``); // the docs must not depend on the build machine
  });

  it('keeps every table row to five cells', () => {
    for (const line of reference.split('\n').filter((l) => l.startsWith('|'))) {
      expect(line.replace(/\\\|/g, '').split('|').length, line).toBe(7);
    }
  });
});

// Each run starts npx and tsx (2-5 s on a loaded machine): a budget per run, as for the CLI's own tests.
describe('scripts/config-docs.ts', { timeout: cliTestMs(1) }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-docs-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const readme = '# mobilenet-edge\n\n## Config\n\n<!-- config-reference:start -->\nold\n<!-- config-reference:end -->\n\n## More\n';
  const run = (...args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'scripts/config-docs.ts', ...args], { cwd: ROOT }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('replaces only the block between the markers', () => {
    const out = replaceBlock(readme, 'NEW\n');
    expect(out).toEqual({ text: '# mobilenet-edge\n\n## Config\n\n<!-- config-reference:start -->\nNEW\n<!-- config-reference:end -->\n\n## More\n' });
    expect(replaceBlock('# no markers\n', 'NEW\n')).toEqual({ error: expect.stringContaining('no "<!-- config-reference:start -->"') });
  });

  it('--check fails on a stale README, --write fixes it, --check then passes', async () => {
    const file = path.join(tmp, 'README.md');
    fs.writeFileSync(file, readme);
    const stale = await run('--check', '--readme', file);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('is out of date');
    expect((await run('--write', '--readme', file)).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(readme.replace('old\n', reference));
    expect((await run('--check', '--readme', file)).code).toBe(0);
  }, cliTestMs(3));

  it('says clearly when the README is missing', async () => {
    const res = await run('--check', '--readme', path.join(tmp, 'absent.md'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/absent\.md not found; create it with the markers/);
  });
});

describe('the docs', () => {
  it('docs/configuration.md carries the config reference generated from the current schema (npm run docs:config)', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const replaced = replaceBlock(readme, reference);
    expect('text' in replaced).toBe(true);
    expect((replaced as { text: string }).text).toBe(readme);
  });

  it('opens with the demo command and the test command that .ci/run runs', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```sh\n(.*?)\n```/g)].map((m) => m[1]);
    expect(blocks[0]).toBe('npm ci && npm run build && npm run demo');
    expect(blocks[1]).toBe('npm ci && npm test');
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').trim().split('\n');
    expect(ci[ci.length - 1]).toBe(blocks[1]);
  });
});
