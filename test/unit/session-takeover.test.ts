import { describe, expect, it } from 'vitest';
import { SessionTakeover } from '../../src/publish/session-takeover.js';

describe('SessionTakeover', () => {
  it('flags three short-lived connections within two minutes, not fewer, not long ones', () => {
    const t = new SessionTakeover();
    t.connected(0);
    expect(t.closed(1_000)).toBe(false);
    t.connected(2_000);
    expect(t.closed(3_000)).toBe(false);
    t.connected(4_000);
    expect(t.closed(5_000)).toBe(true);
    // A connection that lasted: not part of the pattern.
    t.connected(10_000);
    expect(t.closed(100_000)).toBe(false);
  });

  it('forgets short-lived connections older than the window, and a close without a connect', () => {
    const t = new SessionTakeover();
    for (const at of [0, 60_000]) {
      t.connected(at);
      t.closed(at + 1000);
    }
    t.connected(200_000);
    expect(t.closed(201_000)).toBe(false); // the first two are out of the 2 min window
    expect(t.closed(202_000)).toBe(false); // closed twice: the second close had no connect
  });
});
