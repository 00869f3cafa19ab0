import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, SSD_V1 } from '../helpers/paths.js';

const MAIN = resolve(ROOT, 'src', 'main.ts');
const CLI = `'${process.execPath}' --import tsx '${MAIN}'`;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/;
const SCRIPT_MISSING = spawnSync('sh', ['-c', 'command -v script']).status === 0 ? '' : 'script (util-linux) is not installed';

/** Runs a shell command line (the CLI inside it) to its end; no state directory, so the outbox warns at start. */
function sh(line: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env };
  for (const k of ['JOURNAL_STREAM', 'MOBILENET_EDGE_STATE_DIR', 'STATE_DIRECTORY', 'NO_COLOR', 'FORCE_COLOR', 'MOBILENET_EDGE_LOG_FORMAT', 'MOBILENET_EDGE_LOG_LEVEL']) delete base[k];
  const child = spawn('sh', ['-c', line], { cwd: ROOT, env: { ...base, TERM: 'xterm-256color', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/** journald's JOURNAL_STREAM for the shell's own fd N (the pipe the CLI will write to), set before exec-ing the CLI. */
const asJournal = (fd: 1 | 2, command: string): string => `JOURNAL_STREAM=$(stat -L -c %d:%i /proc/$$/fd/${fd}) exec ${command}`;

describe('log lines for journald and for a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-logs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const PASSWORD = 'pw-Zq81-secret';
  /**
   * A start that logs every level and ends by itself: info (starting), warn (no state directory for the outbox),
   * error (the camera has no images), fatal (no camera could start), exit 1. The broker URL carries a password.
   */
  const config = join(dir, 'config.json');
  mkdirSync(join(dir, 'empty'));
  writeFileSync(
    config,
    JSON.stringify({
      device: { id: 'logd' },
      cameras: { 'front-door': { source: { type: 'files', path: join(dir, 'empty'), fps: 2 } } },
      detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
      mqtt: { url: `mqtt://user:${PASSWORD}@127.0.0.1:1`, topicPrefix: 'me-test-logs' },
    }),
  );
  chmodSync(config, 0o600);
  const run = `${CLI} run --config '${config}'`;

  it('under systemd (JOURNAL_STREAM is stdout), each line is <priority> then one JSON object: <6> info, <4> warn, <3> error, <2> fatal', async () => {
    const r = await sh(asJournal(1, run));
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    const parsed = lines.map((l) => {
      const m = /^<(\d)>(\{.*\})$/.exec(l);
      expect(m, `not "<N>{json}": ${l}`).not.toBeNull();
      return { priority: Number(m![1]), rec: JSON.parse(m![2]!) as { level: number; msg: string } };
    });
    const find = (msg: RegExp): { priority: number; rec: { level: number } } | undefined => parsed.find((p) => msg.test(p.rec.msg));
    expect(find(/^starting mobilenet-edge$/)).toMatchObject({ priority: 6, rec: { level: 30 } });
    expect(find(/^outbox has no state directory/)).toMatchObject({ priority: 4, rec: { level: 40 } });
    expect(find(/^camera failed to start/)).toMatchObject({ priority: 3, rec: { level: 50 } });
    expect(find(/^cannot start$/)).toMatchObject({ priority: 2, rec: { level: 60 } });
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  }, 60_000);

  it('JOURNAL_STREAM inherited but stdout is elsewhere (a pipe of its own): plain JSON lines, no prefix', async () => {
    const r = await sh(run, { JOURNAL_STREAM: '8:12345' });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) expect(JSON.parse(l)).toHaveProperty('level');
  }, 60_000);

  it('config errors under systemd are JSON lines at priority 3 on stderr; plain text elsewhere', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mqtt: { url: 'ftp://x' }, bogus: 1 }));
    const check = `${CLI} run --config '${bad}'`;
    const journal = await sh(asJournal(2, check));
    expect(journal.code).toBe(78);
    const lines = journal.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l, l).toMatch(/^<3>\{.*\}$/);
    const recs = lines.map((l) => JSON.parse(l.slice(3)) as { level: number; key?: string; config: string; msg: string });
    expect(recs.find((r) => r.key === 'mqtt.url')).toMatchObject({ level: 50, config: bad, msg: expect.stringMatching(/^config error in .*bad\.json: mqtt\.url: protocol must be/) });
    expect(recs.find((r) => r.key === 'bogus')?.msg).toMatch(/unknown key/);

    const plain = await sh(check);
    expect(plain.code).toBe(78);
    expect(plain.stderr).toMatch(/^config error in .*bad\.json: mqtt\.url: protocol must be/m);
    expect(plain.stderr).not.toMatch(/^[<{]/m);
  }, 60_000);

  const onTerminal = (command: string): string => `script -qec "${command.replace(/"/g, '\\"')}" /dev/null`;

  it.skipIf(SCRIPT_MISSING !== '')(`on a terminal: readable lines in colour (time, level, where, message, fields), none with NO_COLOR, JSON with log.format json${SCRIPT_MISSING ? ` (skipped: ${SCRIPT_MISSING})` : ''}`, async () => {
    const tty = await sh(onTerminal(run));
    expect(tty.code).toBe(1);
    const lines = tty.stdout.replace(/\r/g, '').trimEnd().split('\n');
    expect(ANSI.test(tty.stdout)).toBe(true);
    const plain = lines.map((l) => l.replace(new RegExp(ANSI.source, 'g'), ''));
    expect(plain.find((l) => l.includes('starting mobilenet-edge'))).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}starting mobilenet-edge config=\S+config\.json device=logd pid=\d+$/);
    expect(plain.find((l) => l.includes('no state directory'))).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}outbox: outbox has no state directory/);
    expect(plain.find((l) => l.includes('camera failed'))).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR camera front-door: camera failed to start; the other cameras go on err="no image files/);
    expect(plain.find((l) => l.includes('cannot start'))).toMatch(/^\d\d:\d\d:\d\d\.\d{3} FATAL cannot start err=/);
    expect(plain.some((l) => l.startsWith('{'))).toBe(false);
    expect(tty.stdout).not.toContain(PASSWORD);

    const noColour = await sh(onTerminal(run), { NO_COLOR: '1' });
    expect(noColour.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}starting mobilenet-edge/m);
    expect(ANSI.test(noColour.stdout)).toBe(false);

    const json = await sh(onTerminal(run), { MOBILENET_EDGE_LOG_FORMAT: 'json' });
    // The terminal shows stderr too: check-config's warnings, said before the logger exists, are plain text there.
    const jsonLines = json.stdout.replace(/\r/g, '').trimEnd().split('\n').filter((l) => !l.startsWith('warning: '));
    expect(jsonLines.length).toBeGreaterThanOrEqual(4);
    for (const l of jsonLines) expect(JSON.parse(l)).toHaveProperty('level');
  }, 120_000);

  it('log.format pretty forces terminal lines into a pipe too, without colour', async () => {
    const r = await sh(run, { MOBILENET_EDGE_LOG_FORMAT: 'pretty' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}outbox: outbox has no state directory/m);
    expect(ANSI.test(r.stdout)).toBe(false);
  }, 60_000);
});
