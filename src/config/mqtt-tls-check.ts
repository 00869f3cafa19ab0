import type { ConfigProblem } from './errors.js';

/** Schemes on which mqtt.js never starts TLS, whatever TLS options it is given. */
const PLAIN_SCHEMES = new Set(['mqtt:', 'tcp:', 'ws:']);

interface MqttTlsSettings {
  url: string;
  tls: { ca: string | null; cert: string | null; key: string | null; rejectUnauthorized: boolean };
}

/**
 * TLS settings on a plain-text broker URL: mqtt.js ignores them and connects in plain text, sending the password in
 * the clear, without a word. Whoever set a CA, a client certificate or rejectUnauthorized meant TLS, so this is a
 * config error (exit 78) rather than a warning nobody reads. A config cross-check (load.ts) and the publisher both
 * apply it.
 */
export function mqttTlsProblems(mqtt: MqttTlsSettings): ConfigProblem[] {
  let scheme: string;
  try {
    scheme = new URL(mqtt.url).protocol;
  } catch {
    return []; // mqtt.url's own format check names a malformed URL
  }
  if (!PLAIN_SCHEMES.has(scheme)) return [];
  const set = (['ca', 'cert', 'key'] as const).filter((k) => mqtt.tls[k] !== null).map((k) => `mqtt.tls.${k}`);
  if (!mqtt.tls.rejectUnauthorized) set.push('mqtt.tls.rejectUnauthorized');
  if (set.length === 0) return [];
  const secure = scheme === 'ws:' ? 'wss://' : 'mqtts://';
  return [
    {
      key: set[0]!,
      message: `is set but mqtt.url is ${scheme}// (plain text, TLS settings ignored): use ${secure} (or remove ${set.join(', ')})`,
    },
  ];
}
