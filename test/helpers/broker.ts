import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    const deadline = Date.now() + 20_000; // bounds only a broker that never comes up; a loaded machine is slow to start one
    while (!(await reachable(this.port))) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not start on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGHUP: mosquitto reads its config again, password file included (clients stay connected). */
  reload(): void {
    if (!this.child || this.child.exitCode !== null) throw new Error('mosquitto is not running');
    this.child.kill('SIGHUP');
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

/** Writes a mosquitto password file holding one user (mosquitto_passwd hashes it). */
export function writePasswordFile(file: string, user: string, password: string): void {
  writeFileSync(file, '');
  execFileSync('mosquitto_passwd', ['-b', file, user, password], { stdio: 'ignore' });
}

/**
 * A mosquitto config for a plain listener that wants a user name and password, and the password file it reads
 * (rewrite it with writePasswordFile and call reload() to change what the broker accepts).
 */
export function passwordBrokerConfig(port: number, user: string, password: string): { config: string; passwordFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'me-passwd-broker-'));
  const passwordFile = join(dir, 'passwd');
  writePasswordFile(passwordFile, user, password);
  const config = join(dir, 'mosquitto.conf');
  // `user root`: mosquitto started as root otherwise drops to the mosquitto user, which cannot read the 0700 temp dir.
  writeFileSync(config, ['user root', `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwordFile}`, ''].join('\n'));
  return { config, passwordFile };
}
