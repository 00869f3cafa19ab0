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

/**
 * Node's timers hold at most 2^31 - 1 ms (24.8 days): a longer delay silently becomes 1 ms. Every duration key has an
 * upper bound well inside it, and every rate a lower bound whose period fits (one frame a day).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The slowest frame rate a camera key accepts: one frame a day. */
export const MIN_FPS = 1 / 86_400;

/** A frame rate from one a day to `max`, or 0 when `zero` says what 0 means there. */
export function rate(opts: { max: number; zero?: string }): Check<number> {
  const orZero = opts.zero ? `0 (${opts.zero}) or ` : '';
  const describe = `${orZero}number 1/86400..${opts.max} (one frame a day at least)`;
  return check<number>(describe, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `must be ${orZero}a positive number`;
    if (v === 0 && opts.zero) return undefined;
    if (v < MIN_FPS) return `must be ${orZero}at least 1/86400 (one frame a day): a slower rate cannot be timed`;
    return v > opts.max ? `must be at most ${opts.max}` : undefined;
  });
}

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

/** Longest device id, in UTF-8 bytes: it is a topic level, a client id part and a Home Assistant id part. */
export const MAX_TOPIC_LEVEL_BYTES = 128;
/** Longest topic prefix, in UTF-8 bytes: MQTT allows 65535 for a whole topic; ours add camera, label and zone levels. */
export const MAX_TOPIC_PREFIX_BYTES = 256;

/** An MQTT topic level the daemon can publish under: MQTT forbids wildcards in published topics. */
export const topicLevel = check<string>(`non-empty string without / # +, at most ${MAX_TOPIC_LEVEL_BYTES} bytes`, (v) => {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string';
  if (/[/#+\0]/.test(v)) return 'must be a single MQTT topic level: no "/", "#" or "+"';
  const bytes = Buffer.byteLength(v);
  return bytes > MAX_TOPIC_LEVEL_BYTES ? `must be at most ${MAX_TOPIC_LEVEL_BYTES} bytes (got ${bytes})` : undefined;
});

/** A topic prefix may have several levels, but no wildcards, no empty levels, and no broker-reserved `$` first level. */
export const topicPrefix = check<string>(`MQTT topic without # + or empty levels, not starting with $, at most ${MAX_TOPIC_PREFIX_BYTES} bytes`, (v) => {
  if (typeof v !== 'string' || v.length === 0) return 'must be a non-empty string';
  if (/[#+\0]/.test(v)) return 'must not contain MQTT wildcards "#" or "+"';
  // Brokers reserve $-topics ($SYS/...) for themselves: clients may not publish there, and '#' subscribers never see them.
  if (v.startsWith('$')) return 'must not start with "$": topics starting with $ belong to the broker (e.g. $SYS), which drops what clients publish there';
  const bytes = Buffer.byteLength(v);
  if (bytes > MAX_TOPIC_PREFIX_BYTES) return `must be at most ${MAX_TOPIC_PREFIX_BYTES} bytes (got ${bytes})`;
  return v.split('/').some((level) => level.length === 0) ? 'must not start or end with "/" or contain "//"' : undefined;
});

/** Names JavaScript objects already answer to (`__proto__`, `constructor`, `toString`...): never a map key of ours. */
export function isReservedName(name: string): boolean {
  return name === '__proto__' || name in Object.prototype;
}

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

/** An even integer in a range: I420 frames (rpicam-vid yuv420) hold one chroma sample per 2x2 block. */
export function evenInt(r: { min: number; max: number }): Check<number> {
  return check<number>(`even integer ${r.min}..${r.max}`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v % 2 === 0 && v >= r.min && v <= r.max
      ? undefined
      : `must be an even integer ${r.min}..${r.max}`,
  );
}

/** rpicam-vid options the source always passes from a typed key: the same option in extraArgs would contradict it. */
const RPICAM_ALWAYS_SET: Record<string, string> = {
  '--camera': 'camera',
  '--width': 'width',
  '--height': 'height',
  '--framerate': 'framerate',
  '--codec': 'codec',
};
/**
 * Options with an optional typed key: passed only when the key is set (not null, false or 0). Old configs that put
 * them in extraArgs stay valid; setting both is refused (rpicamArgConflict), as rpicam-vid would take the last one.
 */
const RPICAM_OPTIONAL: Record<string, string> = {
  '--rotation': 'rotation',
  '--hflip': 'hflip',
  '--vflip': 'vflip',
  '--shutter': 'shutter',
  '--gain': 'gain',
  '--analoggain': 'gain',
  '--awb': 'awb',
  '--denoise': 'denoise',
  '--tuning-file': 'tuningFile',
};
/** Options that would stop, pause, redirect or end the endless stdout stream the source reads. */
const RPICAM_STREAM_FLAGS = ['--timeout', '--nopreview', '--flush', '--output', '--segment', '--split', '--circular', '--keypress', '--signal', '--frames', '--list-cameras', '--listen', '--save-pts'];
/** Their short forms (boost also accepts the value glued on: -t0, -o-). */
const RPICAM_STREAM_SHORT = /^-[tnoks](?!-)/;

const flagOf = (arg: string): string => (arg.startsWith('--') ? arg.split('=')[0]! : arg);

/** Why an rpicam-vid extra argument is refused on its own, or undefined when it may pass. */
export function rpicamArgProblem(arg: string): string | undefined {
  const flag = flagOf(arg);
  const key = RPICAM_ALWAYS_SET[flag];
  if (key) return `"${arg}" is set by source.${key}: use that key instead`;
  if (RPICAM_STREAM_FLAGS.includes(flag) || RPICAM_STREAM_SHORT.test(arg)) {
    return `"${arg}" is managed by the source (it always runs -t 0 -n --flush -o - and reads frames from stdout)`;
  }
  return arg.includes('\0') ? 'must not contain NUL characters' : undefined;
}

/** An extra argument that repeats an optional key which is also set, or undefined. */
export function rpicamArgConflict(extraArgs: readonly string[], source: Record<string, unknown>): string | undefined {
  for (const arg of extraArgs) {
    const key = RPICAM_OPTIONAL[flagOf(arg)];
    const value = key === undefined ? undefined : source[key];
    if (key && value !== null && value !== false && value !== 0 && value !== undefined) {
      return `"${arg}" contradicts source.${key} (${JSON.stringify(value)}): set only one of them`;
    }
  }
  return undefined;
}

export const rpicamExtraArgs = check<string[]>('array of strings (rpicam-vid options the typed keys do not cover)', (v) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return 'must be an array of strings';
  for (const arg of v) {
    const problem = rpicamArgProblem(arg);
    if (problem) return problem;
  }
  return undefined;
});

/** DNS host names (for the HTTP Host check): letters, digits, '-' and '.', no port. */
export const hostNames = check<string[]>('array of host names', (v) => {
  if (!Array.isArray(v)) return 'must be an array of host names';
  const bad = v.find((h) => typeof h !== 'string' || !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(h));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} is not a host name (letters, digits, "-" and ".", no port or scheme)`;
});

export type Polygon = [number, number][];

/** A problem with one polygon (normalised [x, y] points, at least three), or undefined. */
function polygonProblem(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length < 3) return 'must be a list of at least 3 [x, y] points';
  for (const p of v) {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && c >= 0 && c <= 1)) {
      return `has a point ${JSON.stringify(p)} that is not [x, y] with 0 <= x, y <= 1 (normalised to the frame)`;
    }
  }
  return undefined;
}

export const zoneMap = check<Record<string, Polygon>>('object: zone name -> polygon [[x, y], ...] (normalised)', (v) => {
  if (!isPlainObject(v)) return 'must be an object mapping zone names to polygons';
  for (const [name, poly] of Object.entries(v)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return `zone name "${name}" may only hold letters, digits, "_" and "-" (at most 64)`;
    if (isReservedName(name)) return `zone name "${name}" is reserved in JavaScript objects: choose another name`;
    const problem = polygonProblem(poly);
    if (problem) return `zone "${name}" ${problem}`;
  }
  return undefined;
});

export const polygonList = check<Polygon[]>('list of polygons [[x, y], ...] (normalised)', (v) => {
  if (!Array.isArray(v)) return 'must be a list of polygons';
  for (const [i, poly] of v.entries()) {
    const problem = polygonProblem(poly);
    if (problem) return `mask ${i} ${problem}`;
  }
  return undefined;
});
