import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_RUN_MS } from '../helpers/budgets.js';

const SHARED = resolve(process.cwd(), '../shared/models');
const FILE = 'mobilenet_v1_0.25_128_quant.tflite';
const tmp = mkdtempSync(join(tmpdir(), 'fetch-sigint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!existsSync(SHARED))('fetch-models in a real process (needs ../shared/models)', () => {
  it('Ctrl-C mid-download exits 130 and leaves no partial file', async () => {
    // A server that sends the first 64 KiB and then stalls: the download is mid-flight when SIGINT arrives.
    const body = readFileSync(join(SHARED, FILE));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 65536));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dir = join(tmp, 'models');
    const runner = join(tmp, 'runner.mts');
    const src = (p: string) => pathToFileURL(resolve(process.cwd(), 'src/models', p)).href;
    writeFileSync(
      runner,
      `import { fetchModelsCommand } from ${JSON.stringify(src('cli.ts'))};
import { loadManifest } from ${JSON.stringify(src('manifest.ts'))};
const m = await loadManifest();
const manifest = { ...m, models: m.models.map((e) => ({ ...e, url: ${JSON.stringify(base)} + '/' + e.file })) };
const io = { stdout: process.stdout, stderr: process.stderr, isTTY: false };
process.exitCode = await fetchModelsCommand(process.argv.slice(2), io, { manifest });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', runner, '--dir', dir, FILE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      // The runner logs "downloading" before the request; give the first bytes a moment to land in the part file.
      // One Ctrl-C only: its own answer, "aborted while downloading", says "downloading" too, and a second SIGINT
      // 300 ms later killed a runner that was slower than that to exit (code null on a loaded machine).
      if (!interrupted && s.includes('downloading')) {
        interrupted = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    // Only a hung run gets here: the runner starts from source (2-5 s on a loaded machine) before it downloads.
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_RUN_MS);
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();

    expect(stderr).toContain(`aborted while downloading ${base}/${FILE}`);
    expect(code).toBe(130);
    expect(readdirSync(dir)).toEqual([]);
  }, CLI_RUN_MS + 30_000);
});
