import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SupervisedProcess, type ExitVerdict, type RunEnd, type SupervisorTiming } from '../../src/camera/supervised-process.js';
import { until as waitUntil } from '../helpers/wait.js';

type LogLine = { level: number; msg: string; [k: string]: unknown };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** `until` with the camera suites' argument order: what first; the timeout only bounds a failing test on a loaded machine. */
const until = (what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(done, timeoutMs, what, 10);

/** Running: present and not a zombie. */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const FAST: Partial<SupervisorTiming> = { backoffMinMs: 50, backoffMaxMs: 200, killAfterMs: 300, stableAfterMs: 60_000 };

interface Harness {
  sup: SupervisedProcess;
  statuses: string[];
  ends: string[];
  exits: RunEnd[];
  logs: LogLine[];
}

const running: SupervisedProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** A shell one-liner under supervision; every stdout chunk counts as a frame. */
function harness(script: string, timing: Partial<SupervisorTiming> = {}, verdict: (end: RunEnd) => ExitVerdict = (e) => ({ reason: `code ${e.code}` }), bin = '/bin/sh'): Harness {
  const h: Harness = { statuses: [], ends: [], exits: [], logs: [] } as unknown as Harness;
  const logger = pino({ level: 'debug' }, { write: (s: string) => void h.logs.push(JSON.parse(s) as LogLine) });
  h.sup = new SupervisedProcess(
    {
      name: 'fake',
      command: () => ({ bin, args: ['-c', script] }),
      stopSignal: 'SIGTERM',
      fps: 100,
      classifyExit: (end) => {
        h.exits.push(end);
        return verdict(end);
      },
      spawnFailure: (err, b) => `cannot run ${b}: ${err.code}`,
    },
    {
      run: () => ({ data: () => h.sup.frame(), end: () => {} }),
      status: (state, reason) => h.statuses.push(`${state}: ${reason}`),
      gaveUp: (reason) => h.ends.push(reason),
    },
    logger,
    { ...FAST, ...timing },
    () => 0.5, // jitter: half of the allowed fraction, so the delays are known
  );
  running.push(h.sup);
  return h;
}

describe('SupervisedProcess', () => {
  it('restarts with doubling backoff plus jitter, and turns offline into error after repeated failed starts', async () => {
    const h = harness('echo oops >&2; exit 3');
    h.sup.start();
    await until('4 restarts', () => h.sup.counters().restarts >= 4);
    const exits = h.logs.filter((l) => l.msg === 'fake exited, restarting');
    expect(exits.slice(0, 4).map((l) => [l.restartInMs, l.jitterMs])).toEqual([
      [50, 5],
      [100, 10],
      [200, 20],
      [200, 20],
    ]);
    expect(exits[0]!.stderr).toEqual(['oops']);
    // Same state and reason are reported once; the third failure in a row without a frame needs attention.
    expect(h.statuses).toEqual(['offline: code 3', 'error: code 3; still retrying']);
    expect(h.ends).toEqual([]);
  });

  it('reports online when frames flow, offline when the run ends, and starts the backoff over after a healthy run', async () => {
    // Healthy = frames for stableAfterMs. Two limits no timing can blur: 0 (every run with a frame was healthy) and
    // a minute (none of these short runs was).
    const healthy = harness('echo frame; exit 1', { stableAfterMs: 0 });
    const short = harness('echo frame; exit 1', { stableAfterMs: 60_000 });
    healthy.sup.start();
    short.sup.start();
    await until('3 restarts each', () => healthy.sup.counters().restarts >= 3 && short.sup.counters().restarts >= 3);
    const delays = (h: Harness): unknown[] => h.logs.filter((l) => l.msg === 'fake exited, restarting').map((l) => l.restartInMs);
    expect(delays(healthy).slice(0, 3)).toEqual([50, 50, 50]);
    expect(delays(short).slice(0, 3)).toEqual([50, 100, 200]);
    expect(healthy.statuses.slice(0, 4)).toEqual(['online: frames flowing', 'offline: code 1', 'online: frames flowing', 'offline: code 1']);
    expect(healthy.exits[0]!.frames).toBe(1);
  });

  it('gives up on a fatal verdict: error status, ended once, no restart', async () => {
    const h = harness('exit 2', {}, (e) => ({ reason: `bad arguments (${e.code})`, fatal: true }));
    h.sup.start();
    await until('give up', () => h.ends.length > 0);
    await sleep(150);
    expect(h.ends).toEqual(['bad arguments (2)']);
    expect(h.statuses).toEqual(['error: bad arguments (2)']);
    expect(h.sup.counters().restarts).toBe(0);
    expect(h.sup.running).toBe(false);
  });

  it('gives up when the binary cannot be run', async () => {
    const h = harness('', {}, undefined, '/nonexistent/fake');
    h.sup.start();
    await until('give up', () => h.ends.length > 0);
    expect(h.ends).toEqual(['cannot run /nonexistent/fake: ENOENT']);
    expect(h.statuses).toEqual(['error: cannot run /nonexistent/fake: ENOENT']);
  });

  it('a grandchild holding the pipe cannot hold the restart back, and does not outlive the run', async () => {
    const h = harness('sleep 30 & echo "stray $!" >&2; exit 4');
    h.sup.start();
    await until('a restart', () => h.sup.counters().restarts >= 1);
    expect(h.exits[0]!.code).toBe(4);
    const stray = Number(h.exits[0]!.stderr[0]!.split(' ')[1]);
    expect(stray).toBeGreaterThan(0);
    // Killed with the rest of the run's process group (a zombie waiting for init to reap it is dead too).
    await until('the stray to be gone', () => !isLive(stray));
  });

  it('says offline "source stopped" on stop, once', async () => {
    const h = harness('while :; do echo f; sleep 0.05; done');
    h.sup.start();
    await until('online', () => h.statuses.length > 0);
    await h.sup.stop();
    await h.sup.stop();
    expect(h.statuses).toEqual(['online: frames flowing', 'offline: source stopped']);
  });
});
