import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../../src/system/deadline.js';

describe('Deadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const deadline = (): Deadline => new Deadline(() => Date.now()); // the fake clock

  it('expires `ms` after the last arm, with the last callback, once', () => {
    const d = deadline();
    const first = vi.fn();
    const second = vi.fn();
    d.arm(1000, first);
    vi.advanceTimersByTime(600);
    d.arm(1000, second); // re-armed: now due at 1600
    vi.advanceTimersByTime(999);
    expect(first).not.toHaveBeenCalled();
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('keeps one timer while re-armed again and again (a frame every 5 ms), and still expires on time after the last', () => {
    const d = deadline();
    const expired = vi.fn();
    const set = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 400; i++) {
      d.arm(2000, expired);
      vi.advanceTimersByTime(5);
    }
    // 2 s of frames: the first timer, and one more when it fired with the deadline moved on.
    expect(set.mock.calls.length).toBeLessThanOrEqual(2);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1994);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('arming an earlier deadline than the timer moves the timer', () => {
    const d = deadline();
    const late = vi.fn();
    const early = vi.fn();
    d.arm(10_000, late);
    d.arm(100, early);
    vi.advanceTimersByTime(100);
    expect(early).toHaveBeenCalledTimes(1);
    expect(late).not.toHaveBeenCalled();
  });

  it('does nothing once cleared or stopped; stop leaves no timer behind', () => {
    const d = deadline();
    const expired = vi.fn();
    d.arm(100, expired);
    d.clear();
    vi.advanceTimersByTime(200);
    expect(expired).not.toHaveBeenCalled();
    d.arm(100, expired);
    d.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(200);
    expect(expired).not.toHaveBeenCalled();
  });
});
