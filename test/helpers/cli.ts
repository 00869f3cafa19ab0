import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { CliIo } from '../../src/cli/exit-codes.js';
import { CLI_RUN_MS } from './budgets.js';
import { ROOT } from './paths.js';

const MAIN = resolve(ROOT, 'src', 'main.ts');

/** The CLI as a user runs it, from source (tsx), in its own process. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = CLI_RUN_MS): Promise<CliResult> {
  const child = spawnCli(args, env);
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mobilenet-edge ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can precede the last 'data' events: wait for the pipes to close.
      child.stdout!.on('close', () => resolveRun({ code, signal, ...child.output() }));
      if (child.stdout!.closed) resolveRun({ code, signal, ...child.output() });
    });
  });
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolveExit, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolveExit({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolveExit({ code, signal });
    });
  });
}

/** In-process CLI io that keeps what a command writes: `out()` and `err()` return it so far. */
export function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => ({ write: (s: string) => (append(String(s)), true) }) as unknown as NodeJS.WritableStream;
  return { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), isTTY: false, out: () => out, err: () => err };
}
