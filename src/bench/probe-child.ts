/**
 * The bench's MQTT subscriber, in a process of its own (forked by DetectionsProbe): receiving and parsing every
 * detections message is not the daemon's work, and in the bench's process it added ~0.2 ms a frame to the daemon's
 * CPU figure. It keeps what it needs of each message and hands the lot over when asked, so the bench process does
 * nothing for them while it measures.
 *
 * Arrival times are CLOCK_MONOTONIC milliseconds (process.hrtime), the one clock both processes read alike.
 */
import type { MqttClient } from 'mqtt';
import { connectOnce } from './detections-probe.js';
import type { ProbeReply, ProbeRequest, ProbeRecord } from './probe-wire.js';

let client: MqttClient | undefined;
let baseTopic = '';
let records: ProbeRecord[] = [];

function reply(msg: ProbeReply): void {
  process.send?.(msg);
}

function onMessage(topic: string, payload: Buffer): void {
  const receivedHrMs = Number(process.hrtime.bigint()) / 1e6;
  if (!topic.startsWith(`${baseTopic}/`) || !topic.endsWith('/detections')) return;
  let body: { seq?: unknown; ts?: unknown; backend?: unknown; latencyMs?: unknown };
  try {
    body = JSON.parse(payload.toString('utf8')) as typeof body;
  } catch {
    return;
  }
  if (typeof body.seq !== 'number') return;
  records.push({
    camera: topic.slice(baseTopic.length + 1, -'/detections'.length),
    seq: body.seq,
    backend: typeof body.backend === 'string' ? body.backend : '',
    capturedWall: typeof body.ts === 'string' ? Date.parse(body.ts) : NaN,
    receivedHrMs,
    latencyMs: typeof body.latencyMs === 'object' && body.latencyMs !== null ? (body.latencyMs as ProbeRecord['latencyMs']) : {},
  });
}

async function handle(msg: ProbeRequest): Promise<void> {
  if (msg.type === 'connect') {
    try {
      client = await connectOnce(msg.url, msg.clientId);
      await client.subscribeAsync(`${msg.baseTopic}/+/detections`, { qos: 0 });
      baseTopic = msg.baseTopic;
      client.on('message', onMessage);
      reply({ type: 'connected' });
    } catch (err) {
      reply({ type: 'failed', message: (err as Error).message });
    }
  } else if (msg.type === 'collect') {
    const taken = records;
    records = [];
    reply({ type: 'records', id: msg.id, records: taken });
  } else if (msg.type === 'close') {
    try {
      if (client?.connected) await Promise.all(msg.clearRetained.map((t) => client!.publishAsync(t, '', { qos: 1, retain: true })));
    } finally {
      await client?.endAsync().catch(() => undefined);
      reply({ type: 'closed' });
      process.disconnect?.();
    }
  }
}

process.on('message', (msg: ProbeRequest) => void handle(msg));
// The bench is gone: nothing to report to.
process.on('disconnect', () => {
  void client?.endAsync(true).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
