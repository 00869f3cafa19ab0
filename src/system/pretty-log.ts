/**
 * One pino JSON line as a terminal line: `12:04:05.123 WARN  mqtt: message key=value ...`, in colour when asked.
 * Hand-written on purpose: pino-pretty brings 13 packages and runs as a worker-thread transport by default (memory a
 * Pi would rather keep), for what is a few lines a minute here.
 */

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '34' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '1;41' },
};

/** Fields shown in their own place (or not at all: the service name is the same on every line). */
const PLACED = new Set(['level', 'time', 'msg', 'service', 'module', 'camera']);

/**
 * Control characters shown escaped: a camera's stderr or a file name must not move the cursor, ring the bell or
 * recolour the terminal, and a newline in a value must not look like a second log line.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeControl = (s: string): string => s.replace(CONTROL, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A value as `key=value` shows it: bare when unambiguous, JSON-quoted when it holds spaces, quotes or `=`. */
function showValue(v: unknown): string {
  if (typeof v === 'string') return v !== '' && !/[\s"'=\\]/.test(v) && !HAS_CONTROL.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

function localTime(iso: unknown): string {
  const d = new Date(typeof iso === 'string' || typeof iso === 'number' ? iso : NaN);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The pretty form of one JSON line (with its newline); a line that is not a JSON object is passed on unchanged. */
export function prettyLine(json: string, colour: boolean): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return json;
  const paint = (code: string, s: string): string => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const level = LEVELS[Number(rec.level)] ?? { name: String(rec.level), colour: '0' };
  const where = [rec.module, rec.camera].filter((x) => typeof x === 'string' && x !== '').join(' ');
  const parts = [paint('90', localTime(rec.time)), paint(level.colour, level.name.padEnd(5))];
  if (where) parts.push(paint('36', `${escapeControl(where)}:`));
  if (rec.msg !== undefined) parts.push(escapeControl(String(rec.msg)));
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(rec)) {
    if (PLACED.has(key)) continue;
    // pino's error serializer: the message on the line, the stack below it.
    if (value && typeof value === 'object' && typeof (value as { stack?: unknown }).stack === 'string') {
      const { message, stack } = value as { message?: unknown; stack: string };
      parts.push(`${paint('90', `${escapeControl(key)}=`)}${escapeControl(showValue(message ?? ''))}`);
      stacks.push(...stack.split('\n').map((l) => `    ${escapeControl(l)}`));
      continue;
    }
    parts.push(`${paint('90', `${escapeControl(key)}=`)}${escapeControl(showValue(value))}`);
  }
  return [parts.join(' '), ...stacks].join('\n') + '\n';
}

/**
 * Colour on a terminal unless NO_COLOR is set to anything (no-color.org) or TERM is dumb; FORCE_COLOR asks for it
 * off a terminal too (FORCE_COLOR=0 turns it off).
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
