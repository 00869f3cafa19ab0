/**
 * Time budgets for tests that start real processes. Each one only bounds a test that is already failing (a wait that
 * never ends): no verdict depends on them, so they are generous. Measured on the shared 2-core CI machine with other
 * work on it: a CLI run from source (node --import tsx) takes 2-5 s just to start, an inference host the same again
 * before its model loads, and a daemon with two hosts 6-15 s to its first detection.
 */

/** A daemon run from source: until it is online, has detected, or has logged what the test waits for. */
export const START_MS = 60_000;

/** One CLI run from source, to its exit (runCli's own limit). */
export const CLI_RUN_MS = 60_000;

/**
 * A daemon after SIGTERM, to its exit. Its own graceful stop has a 5 s deadline, after which it exits 1 and logs
 * "overran its deadline": the exit code, not this budget, is what tells a stop that took too long.
 */
export const STOP_MS = 20_000;

/** Something the daemon does next while it runs (a reload line, the next detections, a state change). */
export const NEXT_MS = 30_000;

/** Per-test timeout for a test that makes `runs` CLI runs one after another (vitest's 30 s default is a few slow starts). */
export const cliTestMs = (runs: number): number => runs * CLI_RUN_MS;

/**
 * detector.inferenceTimeoutMs for daemons in tests that are not about that timeout. The default (2 s) killed the CPU
 * SSD's host as hung on this machine at a load average of 10 (no inference finished for 8 s after the start), which
 * lost frames and restarted the host; the tests of the timeout itself set their own.
 */
export const INFERENCE_TIMEOUT_MS = 30_000;
