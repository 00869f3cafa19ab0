import { describe, expect, it } from 'vitest';
import { startupMemorySettingsMissing } from '../../src/cli/run.js';

describe('run: the memory settings read only at start', () => {
  it('names what bin/mobilenet-edge would have set and this process lacks', () => {
    expect(startupMemorySettingsMissing({}, [])).toEqual(['MALLOC_ARENA_MAX', '--max-semi-space-size']);
    expect(startupMemorySettingsMissing({ MALLOC_ARENA_MAX: '2' }, ['--max-semi-space-size=4'])).toEqual([]);
    // The flag counts from NODE_OPTIONS too, and with any value the user chose.
    expect(startupMemorySettingsMissing({ MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8' }, [])).toEqual([]);
    expect(startupMemorySettingsMissing({ NODE_OPTIONS: '--enable-source-maps' }, ['--import', 'tsx'])).toEqual(['MALLOC_ARENA_MAX', '--max-semi-space-size']);
  });
});
