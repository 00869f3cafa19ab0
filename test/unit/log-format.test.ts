import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isJournalStream, syslogPriority, withPriority } from '../../src/system/journal.js';
import { createLogger, JSON_OUTPUT, resolveLogOutput, type LogOutput } from '../../src/system/logger.js';
import { prettyLine, wantsColour } from '../../src/system/pretty-log.js';
import { SecretScrubber } from '../../src/system/secrets.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const TIME = '2026-01-02T03:04:05.678Z';
const localHms = (iso: string): string => {
  const d = new Date(iso);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
};

/** A logger writing into an array, in the given output form. */
function capture(output: LogOutput, secrets: string[] = []): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('trace', { write: (s: string) => void lines.push(s) }, new SecretScrubber(secrets), output);
  return { log, lines };
}

describe('journald priorities', () => {
  it('maps pino levels to syslog priorities as systemd reads them', () => {
    expect([60, 50, 40, 30, 20, 10].map(syslogPriority)).toEqual([2, 3, 4, 6, 7, 7]);
  });

  it('prefixes every line of a write, the trailing newline left alone', () => {
    expect(withPriority('{"level":40}\n', 40)).toBe('<4>{"level":40}\n');
    expect(withPriority('first\n    at x\n', 50)).toBe('<3>first\n<3>    at x\n');
  });

  it('takes fd for the journal only when JOURNAL_STREAM names its device and inode', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'journal-')), 'out');
    const fd = fs.openSync(file, 'w');
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      expect(isJournalStream(`${st.dev}:${st.ino}`, fd)).toBe(true);
      // Inherited from a parent whose stdout was the journal, but this fd is something else now.
      expect(isJournalStream(`${st.dev}:${st.ino + 1n}`, fd)).toBe(false);
      expect(isJournalStream(undefined, fd)).toBe(false);
      expect(isJournalStream('', fd)).toBe(false);
      expect(isJournalStream('garbage', fd)).toBe(false);
    } finally {
      fs.closeSync(fd);
    }
    expect(isJournalStream('1:2', 999)).toBe(false); // a closed descriptor
  });

  it('writes <N> before each JSON line under journald: a warning is priority 4, and the rest is the JSON object', () => {
    const { log, lines } = capture({ pretty: false, colour: false, journal: true });
    log.info('hello');
    log.warn({ camera: 'front' }, 'careful');
    log.error('bad');
    log.fatal('dead');
    log.debug('detail');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<6>', '<4>', '<3>', '<2>', '<7>']);
    for (const l of lines) {
      expect(l.endsWith('\n')).toBe(true);
      expect(JSON.parse(l.slice(3))).toHaveProperty('msg');
    }
    expect(JSON.parse(lines[1]!.slice(3))).toMatchObject({ level: 40, camera: 'front', msg: 'careful' });
  });
});

describe('pretty lines for a terminal', () => {
  const line = (o: Record<string, unknown>): string => JSON.stringify({ level: 30, time: TIME, service: 'mobilenet-edge', ...o }) + '\n';

  it('shows time, level, where, message and the other fields, one line, no JSON braces around it', () => {
    const out = prettyLine(line({ level: 40, module: 'camera', camera: 'front-door', msg: 'camera restarted', attempt: 3, reason: 'exit 255', ok: false, n: null }), false);
    expect(out).toBe(`${localHms(TIME)} WARN  camera front-door: camera restarted attempt=3 reason="exit 255" ok=false n=null\n`);
    expect(prettyLine(line({ msg: 'stats', cameras: { a: { fps: 1 } } }), false)).toBe(`${localHms(TIME)} INFO  stats cameras={"a":{"fps":1}}\n`);
  });

  it('escapes control characters, so a value cannot fake a log line or drive the terminal', () => {
    const out = prettyLine(line({ msg: 'a\nb\x1b[2J', file: 'x\ty', bell: '\x07' }), false);
    expect(out).toBe(`${localHms(TIME)} INFO  a\\nb\\u001b[2J file="x\\ty" bell="\\u0007"\n`);
    expect(out.split('\n')).toHaveLength(2);
  });

  it('prints an error stack below its line', () => {
    const out = prettyLine(line({ level: 50, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' } }), false);
    expect(out).toBe(`${localHms(TIME)} ERROR failed err=boom\n    Error: boom\n        at f (x.js:1:1)\n`);
  });

  it('colours the level when asked, and only then', () => {
    const warn = line({ level: 40, msg: 'w' });
    expect(prettyLine(warn, true)).toContain('\x1b[33mWARN');
    expect(prettyLine(warn, true).replace(ANSI, '')).toBe(prettyLine(warn, false));
    expect(prettyLine(warn, false)).not.toMatch(ANSI);
  });

  it('passes a line that is not a JSON object through unchanged', () => {
    expect(prettyLine('not json\n', false)).toBe('not json\n');
    expect(prettyLine('[1]\n', false)).toBe('[1]\n');
  });

  it('colour: on a terminal unless NO_COLOR or TERM=dumb; FORCE_COLOR off a terminal', () => {
    expect(wantsColour({}, true)).toBe(true);
    expect(wantsColour({ NO_COLOR: '1' }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: '' }, true)).toBe(true); // no-color.org: set and not empty
    expect(wantsColour({ TERM: 'dumb' }, true)).toBe(false);
    expect(wantsColour({}, false)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false);
  });
});

describe('log.format', () => {
  it('auto: pretty on a terminal, JSON on a pipe or file and under journald; json and pretty force either', () => {
    const tty = { isTTY: true, journal: false };
    const pipe = { isTTY: false, journal: false };
    const journal = { isTTY: false, journal: true };
    expect(resolveLogOutput('auto', tty, {})).toEqual({ pretty: true, colour: true, journal: false });
    expect(resolveLogOutput('auto', tty, { NO_COLOR: '1' })).toEqual({ pretty: true, colour: false, journal: false });
    expect(resolveLogOutput('auto', pipe, {})).toEqual(JSON_OUTPUT);
    expect(resolveLogOutput('auto', journal, {})).toEqual({ pretty: false, colour: false, journal: true });
    expect(resolveLogOutput('json', tty, {})).toEqual(JSON_OUTPUT);
    expect(resolveLogOutput('pretty', pipe, {})).toEqual({ pretty: true, colour: false, journal: false });
    // Pretty into the journal: priorities yes, escape codes never (FORCE_COLOR or not).
    expect(resolveLogOutput('pretty', journal, { FORCE_COLOR: '1' })).toEqual({ pretty: true, colour: false, journal: true });
  });

  it('scrubs secrets in every format: a URL password and a literal one with a quote in it', () => {
    const outputs: LogOutput[] = [JSON_OUTPUT, { pretty: true, colour: true, journal: false }, { pretty: false, colour: false, journal: true }, { pretty: true, colour: false, journal: true }];
    for (const output of outputs) {
      const { log, lines } = capture(output, ['pa"ss word!']);
      log.warn({ url: 'rtsp://cam:hunter22@10.0.0.5/live', said: 'ffmpeg: auth pa"ss word! refused' }, 'camera rtsp://cam:hunter22@10.0.0.5/live failed');
      const text = lines.join('');
      expect(text, JSON.stringify(output)).not.toMatch(/hunter22|ss word!/);
      expect(text).toContain('rtsp://cam:***@10.0.0.5/live');
      expect(text).toMatch(/auth \*\*\* refused/);
    }
  });
});
