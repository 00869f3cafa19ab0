/**
 * Why a broker refused our CONNECT, in words a user can act on. MQTT 3.1.1 return codes (1-5) and MQTT 5 reason
 * codes (0x80 and up) do not overlap, so one table serves both protocol versions.
 */
const REFUSALS: Record<number, string> = {
  // MQTT 3.1.1
  1: 'unacceptable protocol version: the broker does not speak MQTT 3.1.1',
  2: 'client id rejected: check mqtt.clientId or device.id',
  3: 'server unavailable: the broker is not ready, perhaps restarting',
  4: 'bad user name or password: check mqtt.username/password',
  5: "not authorised: check mqtt.username/password and the broker's ACL",
  // MQTT 5
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version: the broker does not speak MQTT 5; set mqtt.detectionExpirySec to 0 for MQTT 3.1.1',
  0x85: 'client id not valid: check mqtt.clientId or device.id',
  0x86: 'bad user name or password: check mqtt.username/password',
  0x87: "not authorised: check mqtt.username/password and the broker's ACL",
  0x88: 'server unavailable: the broker is not ready, perhaps restarting',
  0x89: 'server busy',
  0x8a: 'banned: the broker administrator has banned this client',
  0x8c: 'bad authentication method',
  0x90: 'topic name invalid: check mqtt.topicPrefix, used by the last will',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x99: 'payload format invalid',
  0x9a: 'retain not supported: the broker refuses the retained last will on the availability topic',
  0x9b: 'QoS not supported: the broker refuses the QoS 1 last will on the availability topic',
  0x9c: 'use another server: check mqtt.url',
  0x9d: 'server moved: check mqtt.url',
  0x9f: 'connection rate exceeded',
};

/** The refusal in words, e.g. "not authorised: check mqtt.username/password and the broker's ACL". */
export function describeRefusal(code: number): string {
  return REFUSALS[code] ?? `reason code ${code} (0x${code.toString(16)}), unknown to this daemon`;
}

/** A refused CONNACK as mqtt.js reports it: an error "Connection refused: ..." carrying the numeric code. */
export function refusalCode(err: Error): number | undefined {
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'number' && err.message.startsWith('Connection refused') ? code : undefined;
}
