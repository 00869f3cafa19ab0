import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';
import type { Outbox, OutboxMessage } from './outbox.js';
import { SESSION_TAKEN_OVER, SessionTakeover } from './session-takeover.js';
import { maskUrlValue } from '../system/secrets.js';
import { BrokerLink, type LinkStatus } from './broker-link.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { mqttTlsProblems } from '../config/mqtt-tls-check.js';
import { topicMatches } from './topic-filter.js';

export interface PublisherOptions {
  url: string;
  clientId: string;
  username: string | null;
  password: string | null;
  keepaliveSec: number;
  /** clean: false (and a session expiry with MQTT 5): the broker keeps the session across reconnects. */
  persistentSession?: boolean;
  /** MQTT 5 (protocol version 5) instead of 3.1.1: needed for message expiry. */
  mqtt5?: boolean;
  /** Topic under which this daemon publishes: `<topicPrefix>/<device.id>`. */
  baseTopic: string;
  /** Where `queue` messages wait until the broker acknowledges them (disk or memory; bounded; see outbox.ts). */
  outbox: Outbox;
  tls: { ca: string | null; cert: string | null; key: string | null; rejectUnauthorized: boolean };
}

export interface PublishOptions {
  qos: 0 | 1 | 2;
  retain: boolean;
  /**
   * `queue`: through the durable outbox until the broker acknowledges it, re-sent in order after a reconnect or a
   * restart (detections). `latest`: only the newest message per topic is kept while offline (stats, retained state:
   * an old one is worthless).
   */
  offline: 'queue' | 'latest';
  /** MQTT 5 message expiry in seconds (ignored on MQTT 3.1.1). */
  expirySec?: number;
}

export interface PublisherCounters extends LinkStatus {
  connected: boolean;
  published: number;
  queued: number;
  /** Messages dropped because the outbox was full (never silently: logged and counted). */
  droppedOffline: number;
  /** Where the outbox keeps messages: `disk`, or `memory` (no state directory, or the disk failed). */
  outbox: 'disk' | 'memory';
  /** Queued detections held in memory only (no state directory, or a full or failing disk): lost if the daemon stopped now. */
  outboxMemoryOnly: number;
  /** Detections the outbox lost: damaged on disk (found at the start), or held in memory only when it closed. */
  outboxLost: number;
  publishErrors: number;
  reconnects: number;
}

/**
 * `retained`: the broker sent it from its store because we just subscribed (state a previous run left), not as a
 * message published now.
 */
export type MessageHandler = (payload: Buffer, topic: string, retained: boolean) => void;

interface Pending {
  topic: string;
  payload: string | Buffer;
  opts: PublishOptions;
}

/** What the publisher needs from outside besides its config; tests replace them. */
export interface PublisherDeps {
  connect: (url: string, options: IClientOptions) => MqttClient;
  /** Jitter of the reconnect backoff. */
  random: () => number;
  /** Wall clock of the connection state and its log reminders. */
  now: () => number;
}

/**
 * The daemon's one MQTT connection. Availability is a retained `online` on every connect with a retained `offline`
 * as last will; a broker that is unreachable, refuses the login or drops the connection is never fatal: it retries
 * with backoff (see ReconnectBackoff) while the pipeline keeps running and detections wait in the outbox.
 */
export class MqttPublisher {
  private client: MqttClient | undefined;
  private readonly latest = new Map<string, Pending>();
  private readonly counters = { published: 0, publishErrors: 0, reconnects: 0 };
  /** Outbox ids handed to mqtt.js and not yet acknowledged: mqtt.js re-sends those itself after a reconnect. */
  private readonly handed = new Set<number>();
  /** MQTT 5 message expiry per outbox id (kept in memory only: after a restart, replayed messages carry none). */
  private readonly expiry = new Map<number, number>();
  private lastDropped = 0;
  private overflowLogged = false;
  private readonly onConnectHooks: (() => void)[] = [];
  private readonly subscriptions = new Map<string, MessageHandler>();
  private stopping = false;
  private readonly takeover = new SessionTakeover();
  /** Takeover warnings: at most one a minute. */
  private readonly problems: ThrottledLog;
  private readonly link: BrokerLink;
  private readonly backoff: ReconnectBackoff;
  private readonly deps: PublisherDeps;

  constructor(
    private readonly opts: PublisherOptions,
    private readonly log: Logger,
    deps: Partial<PublisherDeps> = {},
  ) {
    // CA, client certificate or key on a plain-text URL: the user meant TLS and would get none, without a word.
    const tlsProblems = mqttTlsProblems(opts);
    if (tlsProblems.length > 0) throw new Error(tlsProblems.map((p) => `${p.key}: ${p.message}`).join('; '));
    this.deps = { connect: mqtt.connect, random: Math.random, now: Date.now, ...deps };
    this.problems = new ThrottledLog(log, 60_000, this.deps.now);
    this.backoff = new ReconnectBackoff(this.deps.random);
    this.link = new BrokerLink(log, () => ({ url: maskUrlValue(opts.url), clientId: opts.clientId, queued: this.queuedCount() }), this.deps.now);
  }

  /** Two daemons with one client id kick each other off the broker forever: say so, and what to change. */
  private warnTakeover(why: string): void {
    this.problems.warn(
      'takeover',
      { url: maskUrlValue(this.opts.url), clientId: this.opts.clientId },
      `${why}: another client is probably using the same client id; give each daemon its own device.id (or mqtt.clientId)`,
    );
  }

  get availabilityTopic(): string {
    return `${this.opts.baseTopic}/availability`;
  }

  topic(...parts: string[]): string {
    return [this.opts.baseTopic, ...parts].join('/');
  }

  /**
   * Listens on a topic or a filter with `+` / `#` (Home Assistant's birth message, commands, our own retained state
   * read back at connect); subscribed again on every connect, before the onConnect hooks run. One handler per filter.
   */
  subscribe(filter: string, handler: MessageHandler): void {
    this.subscriptions.set(filter, handler);
    if (this.client?.connected) this.client.subscribe(filter, { qos: 1 });
  }

  /** Called after each (re)connect, once availability is out: publishers of retained state re-send it here. */
  onConnect(hook: () => void): void {
    this.onConnectHooks.push(hook);
  }

  start(): void {
    const { tls } = this.opts;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      keepalive: this.opts.keepaliveSec,
      // A PINGREQ every keepalive period even while detections flow, rather than mqtt.js moving its keepalive timer
      // on every packet sent and received (two timer updates a frame, 200 frames a second on a Coral).
      reschedulePings: false,
      // mqtt.js reads the period each time it schedules an attempt: the backoff sets it before each one.
      reconnectPeriod: this.backoff.next(),
      // Without it mqtt.js 5 stops for good after a refused CONNACK (bad credentials, "not authorised", "server
      // unavailable" from a broker that is restarting): the daemon would never publish again.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      clean: !this.opts.persistentSession,
      ...(this.opts.mqtt5 ? { protocolVersion: 5 as const, ...(this.opts.persistentSession ? { properties: { sessionExpiryInterval: 86_400 } } : {}) } : {}),
      // Offline buffering is ours (bounded); mqtt.js's own queue is unbounded.
      queueQoSZero: false,
      will: { topic: this.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (this.opts.username !== null) options.username = this.opts.username;
    if (this.opts.password !== null) options.password = this.opts.password;
    if (tls.ca) options.ca = readFileSync(tls.ca);
    if (tls.cert) options.cert = readFileSync(tls.cert);
    if (tls.key) options.key = readFileSync(tls.key);
    options.rejectUnauthorized = tls.rejectUnauthorized;

    const client = this.deps.connect(this.opts.url, options);
    this.client = client;
    client.on('connect', () => {
      this.link.connect();
      this.takeover.connected(this.deps.now());
      this.backoff.reset();
      client.options.reconnectPeriod = this.backoff.next();
      client.publish(this.availabilityTopic, 'online', { qos: 1, retain: true });
      for (const topic of this.subscriptions.keys()) client.subscribe(topic, { qos: 1 });
      for (const hook of this.onConnectHooks) hook();
      this.replay();
      this.flushLatest();
    });
    client.on('message', (topic, payload, packet) => {
      for (const [filter, handler] of this.subscriptions) {
        if (!topicMatches(filter, topic)) continue;
        // A throw here would unwind into mqtt.js's packet handling: one bad message must not cost the connection.
        try {
          handler(payload, topic, packet.retain);
        } catch (err) {
          this.log.error({ topic, err: (err as Error).message }, 'handling an MQTT message failed');
        }
      }
    });
    client.on('reconnect', () => {
      this.counters.reconnects++;
      // This attempt fails or not; if it does, the wait before the next one is a step longer.
      client.options.reconnectPeriod = this.backoff.next();
    });
    client.on('close', () => {
      // Nothing says when (or whether) what was in flight will be acknowledged now: on the disk with it.
      this.opts.outbox.persistDeferred();
      if (this.stopping) return;
      const wasConnected = this.link.connected;
      this.link.close();
      if (wasConnected && this.takeover.closed(this.deps.now())) this.warnTakeover('the broker keeps closing the connection soon after it opens');
    });
    client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.warnTakeover('the broker says another connection took over the session');
    });
    // Logged by the link when the attempt closes: one line per change, not one per retry.
    client.on('error', (err) => this.link.error(err));
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void {
    const connected = this.client?.connected === true;
    if (opts.offline === 'latest') {
      if (connected) {
        // A value held from before the connect is older than this one: sending it after (flushLatest runs after the
        // connect hooks, which re-publish current state) would leave the older one retained.
        this.latest.delete(topic);
        this.send({ topic, payload, opts });
      } else this.latest.set(topic, { topic, payload, opts });
      return;
    }
    const msg: OutboxMessage = { topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos, retain: opts.retain };
    const id = this.opts.outbox.push(msg, connected);
    if (opts.expirySec) this.expiry.set(id, opts.expirySec);
    this.noticeDrops();
    if (connected) this.sendTracked(id, msg);
  }

  snapshot(): PublisherCounters {
    const o = this.opts.outbox.stats();
    return { connected: this.link.connected, ...this.link.status(), ...this.counters, queued: this.queuedCount(), droppedOffline: o.dropped, outbox: o.mode, outboxMemoryOnly: o.memoryOnly, outboxLost: o.lost };
  }

  private queuedCount(): number {
    return this.opts.outbox.stats().depth + this.latest.size;
  }

  /** Publishes `offline` (when connected) and disconnects, within `timeoutMs`. */
  async stop(timeoutMs = 2000): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    // Give the broker a moment to acknowledge what is in flight: less to re-send at the next start.
    const flushUntil = Date.now() + Math.min(timeoutMs / 2, 1500);
    while (client.connected && this.opts.outbox.stats().depth > 0 && Date.now() < flushUntil) await new Promise((r) => setTimeout(r, 20));
    const { depth: queued, memoryOnly, mode } = this.opts.outbox.stats();
    if (queued > 0 && memoryOnly === 0) this.log.warn({ queued, outbox: mode }, 'stopping with detections not yet acknowledged by the broker (kept in the outbox on disk for the next start)');
    else if (queued > 0) {
      this.log.warn(
        { queued, onDisk: queued - memoryOnly, memoryOnly, outbox: mode },
        'stopping with detections not yet acknowledged by the broker: those on disk are kept for the next start; those held in memory only are lost unless the outbox can still write them as it closes',
      );
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, () => resolve()), timeoutMs);
      const end = (): void => {
        client.end(false, () => {
          clearTimeout(timer);
          resolve();
        });
      };
      if (client.connected) client.publish(this.availabilityTopic, 'offline', { qos: 1, retain: true }, end);
      else {
        clearTimeout(timer);
        client.end(true, () => resolve());
      }
    });
    this.link.stopped();
  }

  private send(m: Pending): void {
    this.client!.publish(m.topic, m.payload, { qos: m.opts.qos, retain: m.opts.retain }, (err) => {
      if (err) {
        this.counters.publishErrors++;
        this.log.warn({ topic: m.topic, err: err.message }, 'MQTT publish failed');
      }
    });
    this.counters.published++;
  }

  /** Sends an outbox message; the outbox forgets it when the broker has it (PUBACK, or written for QoS 0). */
  private sendTracked(id: number, msg: OutboxMessage): void {
    this.handed.add(id);
    const expiry = this.opts.mqtt5 ? this.expiry.get(id) : undefined;
    const options = { qos: msg.qos, retain: msg.retain, ...(expiry ? { properties: { messageExpiryInterval: expiry } } : {}) };
    this.client!.publish(msg.topic, msg.payload, options, (err) => {
      this.handed.delete(id);
      if (err) return; // connection lost first: sent again from the outbox on the next connect
      this.expiry.delete(id);
      this.opts.outbox.ack(id);
    });
    this.counters.published++;
  }

  /** After a (re)connect: what the outbox holds and mqtt.js does not already re-send, oldest first. */
  private replay(): void {
    let n = 0;
    for (const { id, msg } of this.opts.outbox.unacked()) {
      if (this.handed.has(id)) continue;
      this.sendTracked(id, msg);
      n++;
    }
    if (n > 0) this.log.info({ messages: n }, 'sending detections held while the broker was away');
  }

  private flushLatest(): void {
    const held = [...this.latest.values()];
    this.latest.clear();
    for (const m of held) this.send(m);
  }

  private noticeDrops(): void {
    // Messages refused for their size are the outbox's to report (by topic): the outbox is not full for them.
    const { dropped: all, refused } = this.opts.outbox.stats();
    const dropped = all - refused;
    if (dropped > this.lastDropped && !this.overflowLogged) {
      this.overflowLogged = true;
      this.log.warn({ dropped, limit: 'mqtt.outbox.maxMessages / maxBytes' }, 'MQTT outbox full: dropping the oldest detections (counted in stats as mqtt.droppedOffline)');
    }
    if (dropped === this.lastDropped) this.overflowLogged = false;
    this.lastDropped = dropped;
  }
}

