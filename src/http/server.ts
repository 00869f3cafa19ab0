import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../system/logger.js';
import type { StatsPayload } from '../stats/stats-reporter.js';
import type { MetricsRecorder } from './metrics.js';
import { LIVE_PAGE } from './page.js';
import { AllowedHosts } from './allowed-hosts.js';

/**
 * `ok`: detecting and publishing. `degraded`: detecting, but the MQTT broker is down (unreachable, refusing the
 * login, connection lost): detections wait in the outbox and go out when it is back, and restarting the daemon would
 * not bring the broker back, so /healthz still answers 200 (a liveness probe must not kill it); alert on `status`.
 * `unhealthy`: not detecting (no frames, no detector): 503.
 */
export type HealthStatus = 'ok' | 'degraded' | 'unhealthy';

export interface HealthReport {
  status: HealthStatus;
  /** What is wrong, one line each (empty when ok). */
  reasons: string[];
  /** The broker connection, as in the stats payload (`state`: connected, connecting, refused, unreachable, lost). */
  mqtt?: { state: string; reason: string | null; downSince: string | null; queued: number };
}

/** What the endpoint reads from the running daemon; it never changes anything there. */
export interface HealthSource {
  /** Frames flowing, a detector answering, the broker connected; `reasons` say what is wrong when not. */
  health(): HealthReport;
  /** The latest stats interval (undefined until the first one closes). */
  stats(): StatsPayload | undefined;
  /** The latest annotated frame of `camera` (default: the first camera); undefined before any, or for no such camera. */
  preview(camera?: string): Promise<{ camera: string; jpeg: Buffer; ts: string } | undefined>;
  /** What the live page polls every second: each camera's state, counters and recent latency, without waiting for stats. */
  live(): LiveReport;
  /** The running cameras' names. */
  cameras(): string[];
  metrics: MetricsRecorder;
}

export interface LiveCamera {
  state: string;
  reason: string;
  detecting: boolean;
  totals: { captured: number; processed: number; dropped: number; skipped: number; errors: number };
  /** Medians of the last frames (up to 32); null before the first. */
  recent: { frames: number; inferenceMs: number | null; totalMs: number | null };
  /** Motion gating (cameras.<name>.motion): ON/OFF now, frames detected and frames skipped as still. */
  motion?: { state: string; detectorRuns: number; skipped: number };
}

export interface LiveReport {
  ts: string;
  backend: string;
  mqtt: { state: string };
  cameras: Record<string, LiveCamera>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Host header names served besides localhost, IP addresses, this machine's name and `host` (http.allowedHosts). */
  allowedHosts?: readonly string[];
}


type Reply = { status: number; type: string; body: string | Buffer; headers?: Record<string, string> };

/**
 * The path of an origin-form request target ("/healthz?x"), or undefined when the target is not one: WHATWG URL
 * parsing took "//[" as a URL with an invalid host and threw, which answered 500 and logged a stack per request.
 */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const end = target.search(/[?#]/);
  const path = end < 0 ? target : target.slice(0, end);
  return ORIGIN_PATH.test(path) ? path : undefined;
}

/** RFC 3986 absolute-path: "/" segments of unreserved, percent-encoded, sub-delim, ":" and "@" characters. */
const ORIGIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)+$/;

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(value) });

/** Health, Prometheus metrics and a small live page on node:http; GET and HEAD only. */
export class HttpServer {
  private server: Server | undefined;
  private readonly hosts: AllowedHosts;
  /** Refused Host names already logged: one line per name, not one per request. */
  private readonly refusedLogged = new Set<string>();

  constructor(
    private readonly opts: HttpServerOptions,
    private readonly source: HealthSource,
    private readonly log: Logger,
  ) {
    this.hosts = new AllowedHosts(opts.host, opts.allowedHosts);
  }

  async start(): Promise<{ port: number }> {
    if (this.server) throw new Error('HttpServer already started');
    const server = createServer((req, res) => void this.handle(req, res));
    // A stalled client must not hold a socket for ever; the page polls every second, so keep-alive stays on.
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'http server error'));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.log.info({ host: this.opts.host, port }, 'http endpoint listening');
    return { port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Browsers keep polling connections open: close them, or close() waits for their keep-alive timeout.
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (err) {
      // The message, never the stack: a request must not be able to fill the journal with traces.
      this.log.error({ err: (err as Error).message, path: req.url?.slice(0, 200) }, 'http request failed');
      reply = json(500, { error: 'internal error' });
    }
    res.writeHead(reply.status, {
      'content-type': reply.type,
      'content-length': String(Buffer.byteLength(reply.body)),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...reply.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const host = req.headers.host;
    if (!this.hosts.allows(host)) {
      const name = String(host).slice(0, 100);
      if (this.refusedLogged.size < 100 && !this.refusedLogged.has(name)) {
        this.refusedLogged.add(name);
        this.log.warn({ host: name }, 'HTTP request for an unknown host name refused (DNS rebinding guard): add it to http.allowedHosts if it is yours');
      }
      return json(403, { error: `host ${JSON.stringify(name)} is not served here; add it to http.allowedHosts` });
    }
    const path = requestPath(req.url);
    if (path === undefined) return json(400, { error: 'bad request target' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return { ...json(405, { error: 'method not allowed' }), headers: { allow: 'GET, HEAD' } };
    }
    switch (path) {
      case '/healthz': {
        const { status, reasons, mqtt } = this.source.health();
        return json(status === 'unhealthy' ? 503 : 200, { status, ...(reasons.length > 0 ? { reasons } : {}), ...(mqtt ? { mqtt } : {}) });
      }
      case '/metrics':
        return { status: 200, type: this.source.metrics.contentType, body: await this.source.metrics.text() };
      case '/api/stats': {
        // 204 until the first interval closes (60 s by default): nothing is wrong, and browsers log a 404 as an error.
        const stats = this.source.stats();
        return stats ? json(200, stats) : { status: 204, type: 'application/json; charset=utf-8', body: '' };
      }
      case '/api/live':
        return json(200, this.source.live());
      case '/snapshot.jpg': {
        const camera = new URLSearchParams(req.url!.slice(path.length).replace(/^\?/, '').replace(/#.*$/, '')).get('camera') ?? undefined;
        if (camera !== undefined && !this.source.cameras().includes(camera)) return json(404, { error: `no camera ${JSON.stringify(camera)}` });
        const snap = await this.source.preview(camera);
        // 204 while a camera has given no frame yet (or has none to give): the page keeps its last picture.
        if (!snap) return { status: 204, type: 'image/jpeg', body: '' };
        return { status: 200, type: 'image/jpeg', body: snap.jpeg, headers: { 'x-camera': encodeURIComponent(snap.camera), 'x-frame-time': encodeURIComponent(snap.ts) } };
      }
      case '/':
        return { status: 200, type: 'text/html; charset=utf-8', body: LIVE_PAGE };
      default:
        return json(404, { error: 'not found' });
    }
  }
}
