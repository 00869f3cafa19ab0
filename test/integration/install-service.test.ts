import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError, type CliIo } from '../../src/cli/exit-codes.js';
import { INSTALL_SERVICE_HELP, installServiceCommand, renderUnit, stamped } from '../../src/cli/install-service.js';
import { ROOT } from '../helpers/paths.js';

function io(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        add(chunk.toString());
        cb();
      },
    });
  return { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY: false, out: () => out, err: () => err };
}

const NODE = '/usr/bin/node';
const mode = (p: string): number => fs.statSync(p).mode & 0o777;
let systemdAnalyze = '';
try {
  systemdAnalyze = execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim();
} catch {
  // Absent: the verify test is skipped and says why.
}
const nodeMissing = fs.existsSync(NODE) ? '' : `${NODE} does not exist here`;

describe('mobilenet-edge install-service', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
  });
  /** A target root with a built install at /opt/me-test (a dummy dist/main.js is enough for the unit). */
  function target(): { root: string; args: string[] } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'install-root-'));
    roots.push(root);
    fs.mkdirSync(path.join(root, 'opt/me-test/dist'), { recursive: true });
    fs.writeFileSync(path.join(root, 'opt/me-test/dist/main.js'), '');
    return { root, args: ['--root', root, '--prefix', '/opt/me-test', '--node', NODE, '--user', 'me-svc'] };
  }

  it('writes the unit, the udev rule, the config and the state directory below --root, with their modes, and prints what is next', async () => {
    const { root, args } = target();
    const t = io();
    expect(await installServiceCommand(args, t)).toBe(0);

    const unitFile = path.join(root, 'etc/systemd/system/mobilenet-edge.service');
    const unit = fs.readFileSync(unitFile, 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node --max-semi-space-size=4 \/opt\/me-test\/dist\/main\.js run --config \/etc\/mobilenet-edge\/config\.json$/m);
    expect(unit).toMatch(/^User=me-svc$/m);
    expect(unit).toMatch(/^Group=me-svc$/m);
    expect(unit).not.toMatch(/\/opt\/mobilenet-edge/);
    for (const line of ['Type=notify', 'NotifyAccess=main', 'WatchdogSec=60', 'NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=true', 'PrivateTmp=true', 'StateDirectory=mobilenet-edge', 'Environment=MOBILENET_EDGE_STATE_DIR=%S/mobilenet-edge', 'DevicePolicy=closed', 'RestartPreventExitStatus=78', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID', 'SystemCallFilter=@system-service', 'SystemCallErrorNumber=EPERM']) {
      expect(unit.split('\n')).toContain(line);
    }
    expect(mode(unitFile)).toBe(0o644);

    const rule = path.join(root, 'etc/udev/rules.d/99-coral-edgetpu.rules');
    expect(fs.readFileSync(rule)).toEqual(stamped(fs.readFileSync(path.join(ROOT, 'systemd/99-coral-edgetpu.rules'))));
    expect(mode(rule)).toBe(0o644);

    const config = path.join(root, 'etc/mobilenet-edge/config.json');
    expect(fs.readFileSync(config)).toEqual(fs.readFileSync(path.join(ROOT, 'config/example.json')));
    expect(mode(config)).toBe(0o640);
    expect(mode(path.dirname(config))).toBe(0o750);
    expect(mode(path.join(root, 'var/lib/mobilenet-edge'))).toBe(0o750);
    expect(mode(path.join(root, 'var/lib'))).toBe(0o755);

    // Below --root no user is created: the command is printed for the target instead.
    expect(t.out()).toMatch(/would run +useradd --system --user-group .*--groups video,render,plugdev me-svc/);
    expect(t.out()).toMatch(/systemctl daemon-reload/);
    expect(t.out()).toMatch(/systemctl enable --now mobilenet-edge/);
    expect(t.err()).toBe('');
    // No leftovers from the write-aside-and-rename.
    expect(fs.readdirSync(path.dirname(unitFile))).toEqual(['mobilenet-edge.service']);
  });

  it('a second run changes nothing, an edited config is kept, and an outdated unit is updated', async () => {
    const { root, args } = target();
    expect(await installServiceCommand(args, io())).toBe(0);
    const config = path.join(root, 'etc/mobilenet-edge/config.json');
    const unitFile = path.join(root, 'etc/systemd/system/mobilenet-edge.service');
    fs.writeFileSync(config, '{"device":{"id":"edited"}}');
    const before = fs.statSync(unitFile).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));

    const again = io();
    expect(await installServiceCommand(args, again)).toBe(0);
    expect(fs.readFileSync(config, 'utf8')).toBe('{"device":{"id":"edited"}}');
    expect(again.out()).toMatch(/kept +\S+config\.json \(exists: never overwritten\)/);
    expect(again.out()).toMatch(/unchanged +\S+mobilenet-edge\.service/);
    expect(again.out()).not.toMatch(/created|updated/);
    expect(fs.statSync(unitFile).mtimeMs).toBe(before);

    // An older version's unit, as install-service wrote it (stamped, unedited): updated in place.
    fs.writeFileSync(unitFile, stamped(Buffer.from('[Service]\nExecStart=/old\n')));
    fs.chmodSync(unitFile, 0o600);
    const third = io();
    expect(await installServiceCommand(args, third)).toBe(0);
    expect(third.out()).toMatch(/updated +\S+mobilenet-edge\.service/);
    expect(fs.readFileSync(unitFile, 'utf8')).toMatch(/^Type=notify$/m);
    expect(mode(unitFile)).toBe(0o644);
    expect(fs.existsSync(`${unitFile}.new`)).toBe(false);
  });

  it('keeps a hand-edited unit (an added Environment= line) and writes the new one beside it', async () => {
    const { root, args } = target();
    expect(await installServiceCommand(args, io())).toBe(0);
    const unitFile = path.join(root, 'etc/systemd/system/mobilenet-edge.service');
    const installed = fs.readFileSync(unitFile, 'utf8');
    const edited = installed.replace('[Service]\n', '[Service]\nEnvironment=MOBILENET_EDGE_LOG_LEVEL=debug\n');
    expect(edited).not.toBe(installed);
    fs.writeFileSync(unitFile, edited);

    const again = io();
    expect(await installServiceCommand(args, again)).toBe(0);
    expect(fs.readFileSync(unitFile, 'utf8')).toBe(edited); // before: overwritten without a backup
    expect(again.out()).toMatch(/kept +\S+mobilenet-edge\.service \(edited by hand: not overwritten\)/);
    expect(again.out()).toMatch(/wrote +\S+mobilenet-edge\.service\.new \(this version's file: merge it with `diff /);
    expect(fs.readFileSync(`${unitFile}.new`, 'utf8')).toBe(installed);

    // A unit from before the stamp (or written by hand from scratch) is kept the same way.
    fs.writeFileSync(unitFile, 'hand-written\n');
    const third = io();
    expect(await installServiceCommand(args, third)).toBe(0);
    expect(fs.readFileSync(unitFile, 'utf8')).toBe('hand-written\n');
    expect(third.out()).toMatch(/no install-service stamp/);

    // Once the user takes the new file, the next run finds it current and removes the stale .new.
    fs.copyFileSync(`${unitFile}.new`, unitFile);
    const fourth = io();
    expect(await installServiceCommand(args, fourth)).toBe(0);
    expect(fourth.out()).toMatch(/unchanged +\S+mobilenet-edge\.service/);
    expect(fs.existsSync(`${unitFile}.new`)).toBe(false);
  });

  it('warns when ExecStart would point into a home directory, which the unit hides from the service', async () => {
    const { args } = target();
    const t = io();
    expect(await installServiceCommand([...args, '--prefix', '/home/pi/mobilenet-edge'], t)).toBe(0);
    expect(t.out()).toMatch(/warning +\/home\/pi\/mobilenet-edge is below \/home.*ProtectHome=true hides/);
    const clean = io();
    expect(await installServiceCommand(args, clean)).toBe(0);
    expect(clean.out()).not.toMatch(/ProtectHome/);
  });

  it('puts the command on PATH: /usr/local/bin/mobilenet-edge runs the copy and node the unit runs', async () => {
    const { root } = target();
    // A stand-in dist/main.js that shows how it was called.
    const prefix = path.join(root, 'opt/me-test');
    fs.writeFileSync(path.join(prefix, 'dist/main.js'), 'console.log(JSON.stringify([...process.execArgv, ...process.argv.slice(2), process.env.MALLOC_ARENA_MAX]))\n');
    expect(await installServiceCommand(['--root', root, '--prefix', prefix, '--node', process.execPath, '--user', 'me-svc'], io())).toBe(0);
    const cli = path.join(root, 'usr/local/bin/mobilenet-edge');
    expect(mode(cli)).toBe(0o755);
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX;
    const out = execFileSync(cli, ['check-config', '--config', 'a b.json'], { encoding: 'utf8', env });
    // MALLOC_ARENA_MAX as the unit sets it (glibc reads it at start only), unless the caller set their own.
    expect(JSON.parse(out)).toEqual(['--max-semi-space-size=4', 'check-config', '--config', 'a b.json', '2']);
    expect(JSON.parse(execFileSync(cli, [], { encoding: 'utf8', env: { ...env, MALLOC_ARENA_MAX: '4' } }))).toEqual(['--max-semi-space-size=4', '4']);
  });

  it('--dry-run writes nothing', async () => {
    const { root, args } = target();
    const t = io();
    expect(await installServiceCommand([...args, '--dry-run'], t)).toBe(0);
    expect(fs.readdirSync(root)).toEqual(['opt']);
    expect(t.out()).toMatch(/would create +\S+mobilenet-edge\.service/);
  });

  it('refuses values a unit file would misread, and a template without its ExecStart', async () => {
    const { args } = target();
    await expect(installServiceCommand([...args, '--prefix', '/opt/my edge'], io())).rejects.toThrow(UsageError);
    await expect(installServiceCommand([...args, '--prefix', 'relative/dir'], io())).rejects.toThrow(/absolute/);
    await expect(installServiceCommand([...args, '--user', 'Bad User'], io())).rejects.toThrow(UsageError);
    expect(() => renderUnit('[Service]\nUser=x\nGroup=x\n', { node: NODE, prefix: '/opt/x', user: 'u' })).toThrow(/0 ExecStart= lines/);
    const t = io();
    expect(await installServiceCommand(['--help'], t)).toBe(0);
    expect(t.out()).toBe(INSTALL_SERVICE_HELP);
  });

  const skipVerify = !systemdAnalyze ? 'systemd-analyze is not installed (Debian package systemd)' : nodeMissing;
  it.skipIf(skipVerify !== '')(`systemd-analyze verify accepts the installed unit without a warning${skipVerify ? ` (skipped: ${skipVerify})` : ''}`, async () => {
    const { root, args } = target();
    expect(await installServiceCommand(args, io())).toBe(0);
    const unitFile = path.join(root, 'etc/systemd/system/mobilenet-edge.service');
    const ok = spawnSync(systemdAnalyze, ['verify', unitFile], { encoding: 'utf8', timeout: 20_000 });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    // The check can fail: an ExecStart binary that does not exist is an error.
    fs.writeFileSync(unitFile, fs.readFileSync(unitFile, 'utf8').replace(`ExecStart=${NODE}`, 'ExecStart=/nonexistent/node'));
    const bad = spawnSync(systemdAnalyze, ['verify', unitFile], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/\/nonexistent\/node/);
  });
});
