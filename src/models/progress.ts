export interface ProgressBar {
  update(label: string, received: number, total: number | null): void;
  /** Clears the bar's line so the next message starts on a clean line. */
  done(): void;
}

export interface ProgressBarOptions {
  /** Draw only on a terminal: \r redraws would be garbage in a log file or journald. */
  enabled: boolean;
  /** Terminal width; a line that wraps breaks the \r redraw. */
  columns?: number;
  /** Minimum time between redraws (default 100 ms, ~10 a second), so a fast copy does not flood the terminal. */
  intervalMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 24;

export function createProgressBar(out: { write(s: string): unknown }, opts: ProgressBarOptions): ProgressBar {
  if (!opts.enabled) return { update: () => undefined, done: () => undefined };
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 100;
  const columns = Math.max(20, (opts.columns ?? 80) - 1);
  let lastDraw = -Infinity;
  let lastLabel: string | undefined;
  let drawn = false;

  return {
    update(label, received, total) {
      const t = now();
      const finished = total !== null && received >= total;
      if (label === lastLabel && !finished && t - lastDraw < interval) return;
      lastDraw = t;
      lastLabel = label;
      drawn = true;
      out.write(`\r${renderLine(label, received, total).slice(0, columns)}\x1b[K`);
    },
    done() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
      lastLabel = undefined;
    },
  };
}

/** One line: "name [#####-----]  42%  1.7/4.0 MB", or "name  1.7 MB" when the size is unknown. */
export function renderLine(label: string, received: number, total: number | null): string {
  if (total === null || total <= 0) return `${label}  ${mb(received)} MB`;
  const ratio = Math.min(1, received / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
  const pct = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label} [${bar}] ${pct}  ${mb(received)}/${mb(total)} MB`;
}

function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}
