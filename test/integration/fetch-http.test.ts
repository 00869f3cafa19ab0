import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchModels, type FetchOptions } from '../../src/models/fetch.js';
import { loadManifest, type Manifest } from '../../src/models/manifest.js';

const SHARED = resolve(process.cwd(), '../shared/models');
const IMAGES = resolve(process.cwd(), '../shared/images');
const NAME = 'mobilenet_v1_0.25_128_quant';
const FILE = `${NAME}.tflite`;

/**
 * Serves ../shared/models and ../shared/images on 127.0.0.1 under /<behaviour>/<file>, so each test picks how the server misbehaves.
 * Stalled responses are never answered; afterAll closes their sockets.
 */
function startServer(): Promise<{ server: Server; base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const [, behaviour, file] = req.url!.split('/');
    const path = [SHARED, IMAGES].map((d) => join(d, file ?? '')).find((p) => existsSync(p));
    if (!file || !path) return void res.writeHead(404).end();
    const body = readFileSync(path);
    switch (behaviour) {
      case 'files':
        return void res.writeHead(200, { 'content-length': body.length }).end(body);
      case 'chunked': // no Content-Length: the size is unknown until the end
        return void res.writeHead(200).end(body);
      case 'redirect':
        return void res.writeHead(302, { location: `/files/${file}` }).end();
      case 'half':
        res.writeHead(200, { 'content-length': body.length });
        return void res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      case 'stall-headers':
        return;
      case 'stall-body':
        res.writeHead(200, { 'content-length': body.length });
        return void res.write(body.subarray(0, 1000));
      case 'drip': {
        // Slow but steady: 100 bytes every DRIP_MS, which an idle timeout of DRIP_TIMEOUT_MS must tolerate.
        res.writeHead(200, { 'content-length': body.length });
        let off = 0;
        const timer = setInterval(() => {
          res.write(body.subarray(off, off + 100));
          off += 100;
          if (off >= body.length) {
            clearInterval(timer);
            res.end();
          }
        }, DRIP_MS);
        return void res.on('close', () => clearInterval(timer));
      }
      default:
        return void res.writeHead(404, 'Not Found').end();
    }
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests })),
  );
}

let manifest: Manifest;
/**
 * The drip: 661 bytes in chunks of 100 every 500 ms (3.5 s in all) under an idle timeout of 2 s, so only a timeout
 * on idleness lets it through, not one on the whole download. The margin (1.5 s) is for a loaded machine: the server
 * and the client share this process, and a stall longer than the timeout fires the client's timer before the data
 * is read (at 60 ms and 300 ms, any stall over 0.3 s would have).
 */
const DRIP_MS = 500;
const DRIP_TIMEOUT_MS = 2000;

let srv: Awaited<ReturnType<typeof startServer>>;
const temps: string[] = [];

beforeAll(async () => {
  manifest = await loadManifest();
  srv = await startServer();
});
afterAll(async () => {
  srv.server.closeAllConnections();
  await new Promise((ok) => srv.server.close(ok));
});
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The real manifest with every URL pointing at the test server's route. */
function manifestFor(route: string, base = srv.base): Manifest {
  return { ...manifest, models: manifest.models.map((e) => ({ ...e, url: `${base}/${route}/${e.file}` })) };
}

function get(route: string, opts: Partial<FetchOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fetch-http-'));
  temps.push(dir);
  const run = fetchModels({ names: [NAME], dependencies: false, dir, manifest: manifestFor(route), timeoutMs: 5000, ...opts });
  return run.then((reports) => ({ dir, report: reports[0]! }));
}

describe.skipIf(!existsSync(SHARED))('fetchModels over HTTP from 127.0.0.1 (needs ../shared/models)', () => {
  const size = existsSync(join(SHARED, FILE)) ? readFileSync(join(SHARED, FILE)).length : 0;

  it('downloads, verifies the sha256 and reports increasing progress', async () => {
    const calls: [number, number | null][] = [];
    const { dir, report } = await get('files', { progress: (e, received, total) => calls.push([received, total]) });
    expect(report).toMatchObject({ status: 'fetched', verified: true, bytes: size, sha256: manifest.models.find((e) => e.name === NAME)!.sha256 });
    expect(createHash('sha256').update(readFileSync(join(dir, FILE))).digest('hex')).toBe(report.sha256);
    expect(readdirSync(dir)).toEqual([FILE]);
    expect(calls.length).toBeGreaterThan(2);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThan(calls[i - 1]![0]);
    expect(calls.at(-1)).toEqual([size, size]);
  });

  it.skipIf(!existsSync(IMAGES))('downloads a sample into <dir>/samples/, creating it, and verifies it', async () => {
    const { dir, report } = await get('files', { names: ['grace_hopper.bmp'] });
    expect(report).toMatchObject({ status: 'fetched', verified: true, bytes: 921738, path: join(dir, 'samples', 'grace_hopper.bmp') });
    expect(readdirSync(dir)).toEqual(['samples']);
    expect(readdirSync(join(dir, 'samples'))).toEqual(['grace_hopper.bmp']);
    expect(readFileSync(join(dir, 'samples', 'grace_hopper.bmp')).equals(readFileSync(join(IMAGES, 'grace_hopper.bmp')))).toBe(true);
  });

  it('creates no samples/ folder when a sample download fails', async () => {
    const { dir, report } = await get('gone', { names: ['cat'] });
    expect(report.status).toBe('failed');
    expect(report.message).toBe(`HTTP 404 Not Found for ${srv.base}/gone/cat.bmp`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('follows redirects', async () => {
    const { report } = await get('redirect');
    expect(report).toMatchObject({ status: 'fetched', verified: true });
  });

  it('works without a Content-Length, reporting an unknown total', async () => {
    const totals = new Set<number | null>();
    const { report } = await get('chunked', { progress: (_e, _r, total) => totals.add(total) });
    expect(report).toMatchObject({ status: 'fetched', verified: true, bytes: size });
    expect([...totals]).toEqual([null]);
  });

  it('skips the network when the file is present and verified', async () => {
    const { dir } = await get('files');
    const before = srv.requests.length;
    const [again] = await fetchModels({ names: [NAME], dependencies: false, dir, manifest: manifestFor('files') });
    expect(again!.status).toBe('up-to-date');
    expect(srv.requests.length).toBe(before);
  });

  it('fails on 404 naming the status and URL, leaving nothing', async () => {
    const { dir, report } = await get('gone');
    expect(report.status).toBe('failed');
    expect(report.message).toBe(`HTTP 404 Not Found for ${srv.base}/gone/${FILE}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails when the server drops the connection half way, leaving no partial file', async () => {
    const { dir, report } = await get('half');
    expect(report.status).toBe('failed');
    expect(report.message).toContain(`${srv.base}/half/${FILE}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails on a sha256 mismatch, naming both sums, leaving nothing', async () => {
    const wrong: Manifest = { ...manifestFor('files'), models: manifestFor('files').models.map((e) => ({ ...e, sha256: '0'.repeat(64) })) };
    const { dir, report } = await get('files', { manifest: wrong });
    expect(report.status).toBe('failed');
    expect(report.message).toMatch(new RegExp(`sha256 mismatch for ${FILE} .*expected 0{64}, got cb273c23ee76`));
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each(['stall-headers', 'stall-body'])('times out when the server stalls (%s), leaving nothing', async (route) => {
    const started = performance.now();
    const { dir, report } = await get(route, { timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(report.status).toBe('failed');
    expect(report.message).toBe(`timed out: no data from ${srv.base}/${route}/${FILE} for 300 ms`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not time out a slow download that keeps progressing', async () => {
    const { report } = await get('drip', { names: ['coco_labels'], timeoutMs: DRIP_TIMEOUT_MS });
    expect(report).toMatchObject({ status: 'fetched', verified: true, bytes: 661 });
  });

  it('removes the part file when aborted mid-download (Ctrl-C)', async () => {
    const ctl = new AbortController();
    const { dir, report } = await get('stall-body', {
      signal: ctl.signal,
      progress: (_e, received) => {
        if (received > 0) setTimeout(() => ctl.abort(), 50);
      },
    });
    expect(report.status).toBe('failed');
    expect(report.message).toBe(`aborted while downloading ${srv.base}/stall-body/${FILE}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the cause when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((ok) => closed.close(ok));
    const { dir, report } = await get('files', { manifest: manifestFor('files', base) });
    expect(report.status).toBe('failed');
    expect(report.message).toMatch(new RegExp(`download from ${base}/files/${FILE} failed: .*ECONNREFUSED`));
    expect(readdirSync(dir)).toEqual([]);
  });
});
