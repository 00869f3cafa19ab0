import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A mosquitto of the test's own on a spare port, to stop and start at will (the shared one on 1883 stays up). */
export class TestBroker {
  private child: ChildProcess | undefined;
  /** `config`: a mosquitto.conf that listens on `port` (TLS tests); without it, a plain listener. */
  constructor(
    readonly port: number,
    private readonly config?: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = this.config ? ['-c', this.config] : ['-p', String(this.port)];
    this.child = spawn('mosquitto', args, { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!(await reachable(this.port))) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not start on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
