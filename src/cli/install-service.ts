import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../system/paths.js';
import { EXIT, UsageError, type CliIo } from './exit-codes.js';

/** Node's flags for the daemon (as in bin/mobilenet-edge and the shipped unit): a young generation of 2 x 4 MB. */
export const NODE_FLAGS = '--max-semi-space-size=4';

const UNIT = '/etc/systemd/system/mobilenet-edge.service';
const UDEV_RULE = '/etc/udev/rules.d/99-coral-edgetpu.rules';
const CONFIG_DIR = '/etc/mobilenet-edge';
const CONFIG = `${CONFIG_DIR}/config.json`;
/** systemd's StateDirectory=mobilenet-edge; created here too so models can be fetched into it before the first start. */
const STATE_DIR = '/var/lib/mobilenet-edge';
/** The command on PATH: npm ci puts none there, and a checkout's `node dist/main.js` is a mouthful at 3 a.m. */
const CLI_LINK = '/usr/local/bin/mobilenet-edge';
const GROUPS = ['video', 'render', 'plugdev'];

export const INSTALL_SERVICE_HELP = `Usage: mobilenet-edge install-service [--root DIR] [--user NAME] [--prefix DIR] [--node PATH] [--dry-run]

Installs mobilenet-edge as a systemd service: the system user (in groups ${GROUPS.join(', ')}), the hardened unit
${UNIT}, the Coral udev rule ${UDEV_RULE}, ${CONFIG} from config/example.json
when there is none (an existing config is never overwritten), the state directory ${STATE_DIR}, and
the command ${CLI_LINK}. Running it again changes only what differs; a unit, rule or command edited by hand
is kept (the new version is written beside it as .new). Needs root, except with --root or --dry-run.

Options:
  --root DIR     install the files below DIR instead of / (an image being built); no user is created and nothing is
                 chowned: the commands that would run are printed instead
  --user NAME    service user and group (default mobilenet-edge)
  --prefix DIR   where mobilenet-edge is installed, for ExecStart (default: this copy)
  --node PATH    node binary for ExecStart (default: the one running this command)
  --dry-run      print what would be done and change nothing
  -h, --help     this text
`;

interface Context {
  root: string;
  real: boolean;
  dryRun: boolean;
  user: string;
  out: string[];
}

/** A file or directory on the target system, as a path on this one. */
const onRoot = (ctx: Context, target: string): string => path.join(ctx.root, target);
/** One line of the report: what happened (or would), then to what. */
const say = (ctx: Context, verb: string, what: string): void => void ctx.out.push(`  ${verb.padEnd(12)} ${what}`);

export async function installServiceCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      user: { type: 'string' },
      prefix: { type: 'string' },
      node: { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(INSTALL_SERVICE_HELP);
    return EXIT.OK;
  }
  const root = path.resolve(values.root ?? '/');
  const user = values.user ?? 'mobilenet-edge';
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new UsageError(`--user "${user}" is not a valid system user name`);
  const prefix = unitPath('--prefix', values.prefix ?? packageRoot());
  const node = unitPath('--node', values.node ?? process.execPath);
  const ctx: Context = { root, real: root === '/', dryRun: values['dry-run'] ?? false, user, out: [] };

  if (ctx.real && !ctx.dryRun && process.getuid?.() !== 0) {
    io.stderr.write('install-service changes /etc and creates a system user: run it as root (sudo), or see --dry-run and --root\n');
    return EXIT.FAILURE;
  }
  const source = packageRoot();
  const template = fs.readFileSync(path.join(source, 'systemd', 'mobilenet-edge.service'), 'utf8');
  const unit = renderUnit(template, { node, prefix, user });

  try {
    if (ctx.root !== '/') ctx.out.push(`Installing below ${ctx.root}${ctx.dryRun ? ' (dry run: nothing is changed)' : ''}`);
    else if (ctx.dryRun) ctx.out.push('Dry run: nothing is changed');
    ensureUser(ctx);
    const ids = ctx.real && !ctx.dryRun ? userIds(user) : undefined;
    installFile(ctx, UNIT, unit, 0o644, { managed: true });
    installFile(ctx, UDEV_RULE, fs.readFileSync(path.join(source, 'systemd', '99-coral-edgetpu.rules')), 0o644, { managed: true });
    // The config may hold the broker password: readable by root and the service's group only.
    ensureDir(ctx, CONFIG_DIR, 0o750, ids && { uid: 0, gid: ids.gid });
    installFile(ctx, CONFIG, fs.readFileSync(path.join(source, 'config', 'example.json')), 0o640, { keep: true, owner: ids && { uid: 0, gid: ids.gid } });
    ensureDir(ctx, STATE_DIR, 0o750, ids);
    installFile(ctx, CLI_LINK, cliWrapper(node, prefix), 0o755, { managed: true });
    if (!ctx.real) say(ctx, 'would run', `chown root:${user} ${CONFIG_DIR} ${CONFIG}; chown ${user}:${user} ${STATE_DIR}  (on the target)`);
  } catch (err) {
    io.stdout.write(ctx.out.join('\n') + '\n');
    io.stderr.write(`install-service: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  for (const p of [node, prefix]) {
    // nvm's node and a checkout in a home directory are common, and invisible to the sandboxed service.
    if (/^\/(home|root|run\/user)(\/|$)/.test(p)) say(ctx, 'warning', `${p} is below /home, /root or /run/user, which ProtectHome=true hides from the service: install it elsewhere (e.g. /opt/mobilenet-edge, /usr/bin/node)`);
  }
  warnIfMissing(ctx, node, `ExecStart runs ${node}, which is not there`);
  warnIfMissing(ctx, path.posix.join(prefix, 'dist', 'main.js'), `ExecStart runs ${prefix}/dist/main.js, which is not there: build it first (npm ci && npm run build)`);
  io.stdout.write([...ctx.out, '', nextSteps(user)].join('\n'));
  return EXIT.OK;
}

/** The unit with this install's node, prefix and user: ExecStart, User= and Group= are the only lines that change. */
export function renderUnit(template: string, o: { node: string; prefix: string; user: string }): string {
  const lines: Record<string, string> = {
    ExecStart: `ExecStart=${o.node} ${NODE_FLAGS} ${path.posix.join(o.prefix, 'dist', 'main.js')} run --config ${CONFIG}`,
    User: `User=${o.user}`,
    Group: `Group=${o.user}`,
  };
  let text = template;
  for (const [key, line] of Object.entries(lines)) {
    const re = new RegExp(`^${key}=.*$`, 'gm');
    const found = text.match(re)?.length ?? 0;
    if (found !== 1) throw new Error(`systemd/mobilenet-edge.service has ${found} ${key}= lines; expected exactly one`);
    text = text.replace(re, line);
  }
  return text;
}

/** Paths end up unquoted in ExecStart: refuse what systemd would split or expand (space, quotes, %, $, \\). */
function unitPath(option: string, value: string): string {
  if (!path.isAbsolute(value)) throw new UsageError(`${option} must be an absolute path: ${value}`);
  if (/[\s"'%$\\;]/.test(value)) throw new UsageError(`${option} ${JSON.stringify(value)} has a character a systemd ExecStart line would misread`);
  return path.resolve(value);
}

function ensureUser(ctx: Context): void {
  const useradd = ['useradd', '--system', '--user-group', '--no-create-home', '--home-dir', STATE_DIR, '--shell', '/usr/sbin/nologin'];
  if (!ctx.real) {
    say(ctx, 'would run', `${[...useradd, '--groups', GROUPS.join(','), ctx.user].join(' ')}  (on the target; not run below --root)`);
    return;
  }
  // render is missing on older systems, plugdev on minimal ones: useradd fails on an unknown group.
  const groups = GROUPS.filter((g) => lookup('group', g) !== undefined);
  const absent = GROUPS.filter((g) => !groups.includes(g));
  if (absent.length) say(ctx, 'note', `group(s) ${absent.join(', ')} do not exist here: not added`);
  if (lookup('passwd', ctx.user) === undefined) {
    const cmd = [...useradd, ...(groups.length ? ['--groups', groups.join(',')] : []), ctx.user];
    run(ctx, cmd, `user ${ctx.user}`);
    return;
  }
  const member = new Set(execFileSync('id', ['-nG', ctx.user], { encoding: 'utf8' }).trim().split(/\s+/));
  const missing = groups.filter((g) => !member.has(g));
  if (missing.length === 0) say(ctx, 'unchanged', `user ${ctx.user} (groups ${groups.join(', ')})`);
  else run(ctx, ['usermod', '--append', '--groups', missing.join(','), ctx.user], `user ${ctx.user}: added to ${missing.join(', ')}`);
}

function run(ctx: Context, cmd: string[], what: string): void {
  if (ctx.dryRun) {
    say(ctx, 'would run', cmd.join(' '));
    return;
  }
  try {
    execFileSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`${cmd.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
  say(ctx, 'done', `${what} (${cmd.join(' ')})`);
}

/** A getent entry, or undefined when there is none (exit status 2). */
function lookup(db: 'passwd' | 'group', name: string): string | undefined {
  try {
    return execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

function userIds(user: string): { uid: number; gid: number } {
  const [, , uid, gid] = (lookup('passwd', user) ?? '').split(':');
  if (uid === undefined || gid === undefined) throw new Error(`user ${user} not found after creating it`);
  return { uid: Number(uid), gid: Number(gid) };
}

interface InstallOptions {
  /** Never replace an existing file (the config). */
  keep?: boolean;
  /**
   * A file we own but a user may edit (the unit, the udev rule): it carries a stamp line with the sha256 of what we
   * wrote. Unedited (the stamp matches), it is updated; edited by hand (or stamped by no one), it is kept and the
   * new version is written beside it as <file>.new, so no local change (an added Environment= line) is ever lost.
   */
  managed?: boolean;
  owner?: { uid: number; gid: number };
}

const STAMP = '# Written by mobilenet-edge install-service; edit a drop-in instead (systemctl edit), or this file is kept at the next install. sha256:';

/** `content` with its stamp line: the sha256 of everything above it. */
export function stamped(content: Buffer): Buffer {
  const body = content.toString('utf8').replace(/\n*$/, '\n');
  return Buffer.from(`${body}${STAMP}${sha256(body)}\n`);
}

/** True when `file` holds a stamp that matches its own content: nobody edited it since install-service wrote it. */
export function isUnedited(file: Buffer): boolean {
  const text = file.toString('utf8');
  const at = text.lastIndexOf(STAMP);
  if (at < 0) return false;
  return text.slice(at + STAMP.length).trim() === sha256(text.slice(0, at));
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function installFile(ctx: Context, target: string, content: string | Buffer, mode: number, opts: InstallOptions = {}): void {
  const file = onRoot(ctx, target);
  const raw = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const data = opts.managed ? stamped(raw) : raw;
  const current = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
  if (current && opts.keep) {
    say(ctx, 'kept', `${file} (exists: never overwritten)`);
    return;
  }
  if (current?.equals(data)) {
    // A .new left by an earlier install is stale once the file itself is current.
    if (opts.managed && !ctx.dryRun) fs.rmSync(`${file}.new`, { force: true });
    const wrongMode = (fs.statSync(file).mode & 0o777) !== mode;
    if (wrongMode && !ctx.dryRun) fs.chmodSync(file, mode);
    if (wrongMode) say(ctx, ctx.dryRun ? 'would chmod' : 'chmod', `${file} (${mode.toString(8)})`);
    else say(ctx, 'unchanged', file);
    return;
  }
  if (current && opts.managed && !isUnedited(current)) {
    const why = current.includes(STAMP) ? 'edited by hand' : 'no install-service stamp: edited by hand, or written by an older install';
    say(ctx, ctx.dryRun ? 'would keep' : 'kept', `${file} (${why}: not overwritten)`);
    say(ctx, ctx.dryRun ? 'would write' : 'wrote', `${file}.new (this version's file: merge it with \`diff ${file} ${file}.new\`, then delete it)`);
    if (!ctx.dryRun) writeAtomic(`${file}.new`, data, mode, opts.owner);
    return;
  }
  const verb = current ? 'update' : 'create';
  if (ctx.dryRun) {
    say(ctx, `would ${verb}`, file);
    return;
  }
  writeAtomic(file, data, mode, opts.owner);
  if (opts.managed) fs.rmSync(`${file}.new`, { force: true });
  say(ctx, `${verb}d`, file);
}

function writeAtomic(file: string, data: Buffer, mode: number, owner?: { uid: number; gid: number }): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  // Written aside and renamed: systemd or udev never read half a file.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode);
  if (owner) fs.chownSync(tmp, owner.uid, owner.gid);
  fs.renameSync(tmp, file);
}

function ensureDir(ctx: Context, target: string, mode: number, owner?: { uid: number; gid: number }): void {
  const dir = onRoot(ctx, target);
  const exists = fs.existsSync(dir);
  if (ctx.dryRun) {
    say(ctx, exists ? 'unchanged' : 'would create', `${dir}/`);
    return;
  }
  if (!exists) {
    // Parents (/var/lib below an empty --root) get the usual 0755; only the directory itself is restricted.
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
    fs.mkdirSync(dir, { mode });
  }
  // Owner and mode are set on every run: a directory created by hand with root-only access would lock the service out.
  fs.chmodSync(dir, mode);
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  say(ctx, exists ? 'unchanged' : 'created', `${dir}/`);
}

function warnIfMissing(ctx: Context, target: string, message: string): void {
  if (!fs.existsSync(onRoot(ctx, target))) say(ctx, 'warning', message);
}

/**
 * A short sh script rather than a symlink: it pins the node and the copy the unit uses, and sets MALLOC_ARENA_MAX and
 * node's flags as the unit does (both are read only at start; see bin/mobilenet-edge).
 */
export function cliWrapper(node: string, prefix: string): string {
  return `#!/bin/sh\n# The mobilenet-edge command line, run with the node and the copy the service uses.\n: "\${MALLOC_ARENA_MAX:=2}"\nexport MALLOC_ARENA_MAX\nexec ${node} ${NODE_FLAGS} ${path.posix.join(prefix, 'dist', 'main.js')} "$@"\n`;
}

function nextSteps(user: string): string {
  return `Next:
  1. fetch the models into the state directory (offline: add --from DIR, a folder holding the files), e.g.:
       sudo -u ${user} mobilenet-edge fetch-models --dir ${STATE_DIR}/models ssd_mobilenet_v2_coco_quant_postprocess_edgetpu
  2. edit ${CONFIG} (cameras, broker, models), then check it (models and labels included):
       sudo -u ${user} mobilenet-edge check-config --config ${CONFIG}
  3. sudo udevadm control --reload && sudo udevadm trigger
  4. sudo systemctl daemon-reload
  5. sudo systemctl enable --now mobilenet-edge
  6. journalctl -u mobilenet-edge -f
`;
}
