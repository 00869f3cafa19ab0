/**
 * Value checks used as convict `format` functions. Each one carries the TypeScript type it proves
 * (so config types are inferred from the schema) and a short `describe` text (so the reference docs
 * show the same rule the validator enforces).
 */

/** A convict format function that proves its value is a `T`; throws an Error whose message says what is expected. */
export interface Check<T> {
  (val: unknown): asserts val is T;
  readonly describe: string;
}

/** The type a check proves. */
export type Checked<C> = C extends Check<infer T> ? T : never;

/** `test` returns a problem message, or undefined when the value is fine. */
export function check<T>(describe: string, test: (val: unknown) => string | undefined): Check<T> {
  const fn = (val: unknown): void => {
    const problem = test(val);
    if (problem !== undefined) throw new Error(problem);
  };
  return Object.assign(fn, { describe }) as Check<T>;
}

/** Whether `c` accepts `val`, for callers that only need a yes or no. */
export function accepts(c: (val: unknown) => void, val: unknown): boolean {
  try {
    c(val);
    return true;
  } catch {
    return false;
  }
}

export function isPlainObject(val: unknown): val is Record<string, unknown> {
  return typeof val === 'object' && val !== null && !Array.isArray(val);
}

export const bool = check<boolean>('boolean', (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'));

export function text(opts: { nonEmpty?: boolean } = {}): Check<string> {
  return check<string>(opts.nonEmpty ? 'non-empty string' : 'string', (v) => {
    if (typeof v !== 'string') return 'must be a string';
    return opts.nonEmpty && v.length === 0 ? 'must not be empty' : undefined;
  });
}

/** `required` names what the value is, for the message shown when it is missing. */
export function requiredText(what: string): Check<string> {
  return check<string>(`non-empty string (${what})`, (v) => {
    if (v === null || v === undefined) return `is required (${what})`;
    if (typeof v !== 'string') return 'must be a string';
    return v.length === 0 ? `must not be empty (${what})` : undefined;
  });
}

export function oneOf<const V extends readonly (string | number)[]>(values: V): Check<V[number]> {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return check<V[number]>(`one of ${values.join(' | ')}`, (v) =>
    values.includes(v as V[number]) ? undefined : `must be one of ${list}`,
  );
}

interface Range {
  min?: number;
  max?: number;
  /** min itself is not allowed (e.g. fps must be > 0). */
  exclusiveMin?: boolean;
}

function rangeText(r: Range): string {
  const low = r.min === undefined ? '' : `${r.exclusiveMin ? '>' : '>='} ${r.min}`;
  if (r.min !== undefined && r.max !== undefined && !r.exclusiveMin) return `${r.min}..${r.max}`;
  return [low, r.max === undefined ? '' : `<= ${r.max}`].filter(Boolean).join(', ');
}

function numeric(integer: boolean, r: Range): Check<number> {
  const kind = integer ? 'integer' : 'number';
  const span = rangeText(r);
  const positive = r.min === 0 && r.exclusiveMin && r.max === undefined;
  const expected = positive ? `a positive ${kind}` : `${integer ? 'an' : 'a'} ${kind}${span ? ` ${span}` : ''}`;
  return check<number>(span ? `${kind} ${span}` : kind, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) return `must be ${expected}`;
    const low = r.min !== undefined && (r.exclusiveMin ? v <= r.min : v < r.min);
    const high = r.max !== undefined && v > r.max;
    return low || high ? `must be ${expected}` : undefined;
  });
}

export const int = (r: Range = {}): Check<number> => numeric(true, r);
export const num = (r: Range = {}): Check<number> => numeric(false, r);

export const stringArray = check<string[]>('array of strings', (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'must be an array of strings',
);

export function orNull<T>(inner: Check<T>): Check<T | null> {
  return check<T | null>(`${inner.describe}, or null`, (v) => {
    if (v === null) return undefined;
    try {
      inner(v);
      return undefined;
    } catch (err) {
      return `${(err as Error).message}, or null`;
    }
  });
}

/** label -> score in 0..1 */
export const scoreMap = check<Record<string, number>>('object: label -> number 0..1', (v) => {
  if (!isPlainObject(v)) return 'must be an object mapping label names to scores 0..1';
  const bad = Object.entries(v).find(([, s]) => typeof s !== 'number' || !(s >= 0 && s <= 1));
  return bad ? `score for label ${JSON.stringify(bad[0])} must be a number 0..1` : undefined;
});

/** An MQTT topic level the daemon can publish under: MQTT forbids wildcards in published topics. */
export const topicLevel = check<string>('non-empty string without / # +', (v) => {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string';
  return /[/#+\0]/.test(v) ? 'must be a single MQTT topic level: no "/", "#" or "+"' : undefined;
});

/** A topic prefix may have several levels, but no wildcards and no empty levels. */
export const topicPrefix = check<string>('MQTT topic without # + or empty levels', (v) => {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string';
  if (/[#+\0]/.test(v)) return 'must not contain MQTT wildcards "#" or "+"';
  return v.split('/').some((level) => level.length === 0) ? 'must not start or end with "/" or contain "//"' : undefined;
});

export const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'] as const;

export const mqttUrl = check<string>(`URL (${MQTT_PROTOCOLS.map((p) => p.slice(0, -1)).join(', ')})`, (v) => {
  if (typeof v !== 'string') return 'must be a URL string';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'must be a URL such as mqtt://host:1883';
  }
  if (!(MQTT_PROTOCOLS as readonly string[]).includes(url.protocol)) {
    return `protocol must be one of ${MQTT_PROTOCOLS.join(' ')}`;
  }
  return url.hostname ? undefined : 'must name a host, e.g. mqtt://127.0.0.1:1883';
});

/** The forms coral-tflite-delegate / libedgetpu accept for the `device` option. */
export const edgetpuDevice = check<string>('"", usb, usb:N, pci, pci:N or :N', (v) =>
  typeof v === 'string' && /^(|usb|usb:\d+|pci|pci:\d+|:\d+)$/.test(v)
    ? undefined
    : 'must be "" (first available), "usb", "usb:N", "pci", "pci:N" or ":N"',
);
