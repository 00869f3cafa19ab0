import { describe, expect, it } from 'vitest';
import { configSecrets, redactConfig, type AppConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/system/logger.js';
import { maskUrlPasswords, maskUrlValue, SecretScrubber, urlPasswords } from '../../src/system/secrets.js';

describe('URL passwords', () => {
  it.each([
    ['rtsp://user:pass@host/x', 'rtsp://user:***@host/x'],
    ['rtsp://user:p@ss@host:554/x', 'rtsp://user:***@host:554/x'],
    ['rtsp://user:p%40ss@host/x', 'rtsp://user:***@host/x'],
    ['rtsp://me@example.org:pw@host/x', 'rtsp://me@example.org:***@host/x'],
    ['rtsp://:pw@host/x', 'rtsp://:***@host/x'],
    ['{"a":"rtsp://u:one@h/x","b":"mqtt://v:two@c:1883"}', '{"a":"rtsp://u:***@h/x","b":"mqtt://v:***@c:1883"}'],
    ["Input #0, rtsp, from 'rtsp://admin:hunter2@10.0.0.5:554/ch/101':", "Input #0, rtsp, from 'rtsp://admin:***@10.0.0.5:554/ch/101':"],
  ])('masks the password in %s', (text, masked) => {
    expect(maskUrlPasswords(text)).toBe(masked);
  });

  it.each(['rtsp://host:554/path', 'rtsp://user@host/x', 'http://host/a@b', 'no url here: user:pass@host'])('leaves %s alone', (text) => {
    expect(maskUrlPasswords(text)).toBe(text);
  });

  it('masks a config value whose password holds spaces and quotes', () => {
    expect(maskUrlValue('rtsp://user:pa ss"w@rd@host/x')).toBe('rtsp://user:***@host/x');
  });

  it('names a URL password raw and percent-decoded', () => {
    expect(urlPasswords('rtsp://u:p%40ss%20x@h/')).toEqual(['p%40ss%20x', 'p@ss x']);
    expect(urlPasswords('rtsp://u:100%@h/')).toEqual(['100%']);
    expect(urlPasswords('rtsp://h/')).toEqual([]);
  });
});

describe('SecretScrubber', () => {
  it('masks literal secrets as written and JSON-escaped, where the URL pattern cannot see them', () => {
    const s = new SecretScrubber(['pa ss"word']);
    expect(s.scrub('opening rtsp://u:pa ss"word@h/x failed')).toBe('opening rtsp://u:***@h/x failed');
    expect(s.scrub(JSON.stringify({ msg: 'rtsp://u:pa ss"word@h/x' }))).toBe('{"msg":"rtsp://u:***@h/x"}');
  });

  it('masks a password with a space, a raw @ and a percent-encoding whole, however the text quotes the URL', () => {
    const input = 'rtsp://user:p@ss w%40rd@127.0.0.1:1/x';
    const s = new SecretScrubber(urlPasswords(input));
    for (const text of [input, `Connection to ${input} failed`, JSON.stringify(['-i', input]), 'password p@ss w@rd']) {
      const out = s.scrub(text);
      for (const fragment of ['p@ss', 'ss w', 'w%40rd', 'w@rd']) expect(out, `${text} -> ${out}`).not.toContain(fragment);
    }
    expect(s.scrub(`Connection to ${input} failed`)).toBe('Connection to rtsp://user:***@127.0.0.1:1/x failed');
  });

  it('does not mask short secrets everywhere (only inside URLs)', () => {
    const s = new SecretScrubber(['abc']);
    expect(s.scrub('abc def rtsp://u:abc@h/')).toBe('abc def rtsp://u:***@h/');
  });
});

describe('the logger', () => {
  it('masks URL passwords and config secrets in every line, at any level and in any field', () => {
    const lines: string[] = [];
    const log = createLogger('trace', { write: (s: string) => void lines.push(s) }, new SecretScrubber(['my secret pw']));
    log.debug({ stderr: "[rtsp @ 0x1] method DESCRIBE failed for 'rtsp://cam:hunter22@10.0.0.9/s'" }, 'ffmpeg said');
    log.error(new Error('could not connect with my secret pw'), 'failed');
    log.info({ nested: { deep: ['mqtts://bob:xyzzy12@broker:8883'] } }, 'config');
    const all = lines.join('');
    for (const secret of ['hunter22', 'my secret pw', 'xyzzy12']) expect(all).not.toContain(secret);
    expect(all).toContain('rtsp://cam:***@10.0.0.9/s');
    expect(lines.every((l) => JSON.parse(l) !== null)).toBe(true);
  });
});

describe('the config', () => {
  const config = {
    mqtt: { url: 'mqtt://bob:b%40d pw@broker', password: 'brokerpass', tls: { key: '/etc/key.pem' } },
    cameras: { door: { source: { type: 'ffmpeg', input: 'rtsp://admin:cam pass@10.0.0.9/stream' } } },
  } as unknown as AppConfig;

  it('lists every secret it holds, and no file path', () => {
    expect(configSecrets(config).sort()).toEqual(['b%40d pw', 'b@d pw', 'brokerpass', 'cam pass'].sort());
  });

  it('check-config output masks URL passwords with spaces and @', () => {
    const red = redactConfig(config) as { mqtt: { url: string }; cameras: { door: { source: { input: string } } } };
    expect(red.mqtt.url).toBe('mqtt://bob:***@broker');
    expect(red.cameras.door.source.input).toBe('rtsp://admin:***@10.0.0.9/stream');
  });
});
