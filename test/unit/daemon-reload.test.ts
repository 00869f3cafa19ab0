import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/system/logger.js';

const base = {
  device: { id: 'd' },
  log: { level: 'info', format: 'auto' },
  cameras: {},
  detector: { backend: 'cpu', model: { cpu: '/m.tflite', edgetpu: null } },
  filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 },
  mqtt: { url: 'mqtt://a' },
  stats: { intervalSec: 60 },
} as unknown as AppConfig;
const withLog = (log: object): AppConfig => ({ ...base, log: { ...base.log, ...log } }) as AppConfig;

describe('Daemon.reload and the log section', () => {
  it('applies log.level live; log.format needs a restart and says so at every reload until then', () => {
    const log = silentLogger();
    const daemon = new Daemon(base, log);
    expect(daemon.reload(withLog({ level: 'debug' }))).toEqual({ live: ['log.level'], restart: [] });
    expect(log.level).toBe('debug');
    const pretty = withLog({ level: 'debug', format: 'pretty' });
    expect(daemon.reload(pretty)).toEqual({ live: [], restart: ['log.format'] });
    // The logger still writes the format it started with: the next reload must not take it for applied.
    expect(daemon.reload(pretty)).toEqual({ live: [], restart: ['log.format'] });
  });
});
