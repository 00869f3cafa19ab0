import { createServer, type Server, type Socket } from 'node:net';

/** How the fake broker answers one CONNECT: a CONNACK with this return / reason code (0 accepts), or hang up. */
export type FakeAnswer = number | 'hang-up';

/**
 * Just enough of an MQTT broker to answer CONNECT the way a real one refuses it: any MQTT 3.1.1 return code or MQTT 5
 * reason code (mosquitto cannot be made to send most of them), or a socket closed without a CONNACK. An accepted
 * client gets PUBACKs for its QoS 1 publishes and nothing else. Built on node:net only: it runs under fake timers.
 */
export class FakeBroker {
  /** Answers for the next CONNECTs, in order; when empty, `then` answers. */
  readonly answers: FakeAnswer[] = [];
  /** CONNECT packets seen, with the protocol level each asked for (4: MQTT 3.1.1, 5: MQTT 5). */
  readonly connects: { level: number; answer: FakeAnswer }[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(public then: FakeAnswer = 0) {
    this.server = createServer((socket) => this.serve(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let level = 4;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let packet = takePacket(buf); packet; packet = takePacket(buf)) {
        buf = buf.subarray(packet.length);
        const type = packet.bytes[0]! >> 4;
        if (type === 1) {
          // CONNECT: protocol name "MQTT" (2 + 4 bytes), then the protocol level.
          level = packet.bytes[packet.headerLength + 6]!;
          const answer = this.answers.shift() ?? this.then;
          this.connects.push({ level, answer });
          if (answer === 'hang-up') {
            socket.destroy();
            return;
          }
          socket.write(Buffer.from(level === 5 ? [0x20, 0x03, 0x00, answer, 0x00] : [0x20, 0x02, 0x00, answer]));
        } else if (type === 3 && ((packet.bytes[0]! >> 1) & 3) === 1) {
          // PUBLISH QoS 1: PUBACK with its packet id (after the topic).
          const topicLength = packet.bytes.readUInt16BE(packet.headerLength);
          const id = packet.bytes.readUInt16BE(packet.headerLength + 2 + topicLength);
          socket.write(Buffer.from(level === 5 ? [0x40, 0x03, id >> 8, id & 0xff, 0x00] : [0x40, 0x02, id >> 8, id & 0xff]));
        } else if (type === 12) {
          socket.write(Buffer.from([0xd0, 0x00])); // PINGRESP
        }
      }
    });
  }
}

/** The first whole packet in `buf`, if it is all there. */
function takePacket(buf: Buffer): { bytes: Buffer; headerLength: number; length: number } | undefined {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i < Math.min(buf.length, 5); i++) {
    remaining += (buf[i]! & 0x7f) * multiplier;
    multiplier *= 128;
    if ((buf[i]! & 0x80) === 0) {
      const headerLength = i + 1;
      const length = headerLength + remaining;
      return buf.length >= length ? { bytes: buf.subarray(0, length), headerLength, length } : undefined;
    }
  }
  return undefined;
}
