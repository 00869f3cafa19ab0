/**
 * Holds the process's stop and reload signals from the first line of the entry module, before the rest of the program
 * is even loaded (~150 ms of imports on this machine, longer on a Pi): without it a SIGHUP in that window kills the
 * process (default action, exit 129) and a SIGTERM stops it without a word. A signal that arrives before its handler
 * is attached is kept and delivered when the handler comes; a command that handles no signals releases the gate and
 * gets the default behaviour back (a kept SIGINT/SIGTERM is then re-raised).
 */

export type GatedSignal = 'SIGHUP' | 'SIGINT' | 'SIGTERM';
const SIGNALS: readonly GatedSignal[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];

type Handler = (signal: GatedSignal) => void;

export class SignalGate {
  private readonly kept: GatedSignal[] = [];
  private readonly handlers = new Map<GatedSignal, Handler>();
  private readonly listener = (signal: GatedSignal): void => this.deliver(signal);
  private open = true;

  constructor(private readonly proc: NodeJS.Process = process) {
    for (const s of SIGNALS) proc.on(s, this.listener);
  }

  /** From now on `signal` goes to `handler`; one kept earlier is delivered at once (on the next tick). */
  on(signal: GatedSignal, handler: Handler): void {
    this.handlers.set(signal, handler);
    const waiting = this.kept.filter((s) => s === signal);
    if (waiting.length === 0) return;
    this.kept.splice(0, this.kept.length, ...this.kept.filter((s) => s !== signal));
    for (const s of waiting) queueMicrotask(() => handler(s));
  }

  /** Signals kept with no handler yet (for a log line). */
  pending(): GatedSignal[] {
    return [...this.kept];
  }

  /** Stops listening: the default actions apply again; a kept SIGINT or SIGTERM is raised again so it takes effect. */
  release(): void {
    if (!this.open) return;
    this.open = false;
    for (const s of SIGNALS) this.proc.off(s, this.listener);
    const stop = this.kept.find((s) => s !== 'SIGHUP');
    this.kept.length = 0;
    if (stop) this.proc.kill(this.proc.pid, stop);
  }

  private deliver(signal: GatedSignal): void {
    const handler = this.handlers.get(signal);
    if (handler) handler(signal);
    else this.kept.push(signal);
  }
}
