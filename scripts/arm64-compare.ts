/**
 * Compares what the SSD found on arm64 with what it found on the host (x86-64), for scripts/arm64-check.sh:
 * per image the same labels, scores within --score-tol and box corners within --box-tol (normalised units).
 *
 *   tsx scripts/arm64-compare.ts detect HOST.jsonl ARM64.jsonl [options]   two `detect --json` outputs
 *   tsx scripts/arm64-compare.ts mqtt HOST.jsonl MQTT.txt [options]        the arm64 daemon's detections
 *                                                                           (`mosquitto_sub -v` lines) against
 *                                                                           the host's detect, image by frame size
 * Options: --min-score S (compared from here, default 0.5), --host-from S (the host's detect was run with
 * --min-score S, default 0.4), --arm64-from S (the same for arm64; in mqtt mode the daemon's filters.minScore,
 * default 0.5), --score-tol T (0.02), --box-tol T (0.02).
 *
 * A result near the threshold may be just above it on one side and just below on the other. So both sides list
 * results from a lower score than the one compared: a result compared on one side must be on the other unless the
 * other side could have it below the score it lists from (score - tol < listed-from). Exit 0 all match, 1 a
 * mismatch, 2 bad input.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Box {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}
interface Result {
  label: string;
  score: number;
  box?: Box;
}
interface ImageRun {
  image: string;
  width: number;
  height: number;
  results: Result[];
}
interface Options {
  minScore: number;
  hostFrom: number;
  arm64From: number;
  scoreTol: number;
  boxTol: number;
}
/** One compared result: on both sides (a pair), or on one side only. */
interface Row {
  label: string;
  host?: Result;
  arm64?: Result;
  ok: boolean;
  note: string;
}

class InputError extends Error {}

function boxDelta(a?: Box, b?: Box): number {
  if (!a || !b) return a === b ? 0 : Number.POSITIVE_INFINITY;
  return Math.max(
    Math.abs(a.xmin - b.xmin),
    Math.abs(a.ymin - b.ymin),
    Math.abs(a.xmax - b.xmax),
    Math.abs(a.ymax - b.ymax),
  );
}

/** Pairs same-label results, closest boxes first, each result at most once. */
function pairResults(host: Result[], arm64: Result[]): Array<[number, number]> {
  const candidates: Array<{ h: number; a: number; d: number }> = [];
  host.forEach((hr, h) =>
    arm64.forEach((ar, a) => {
      if (hr.label === ar.label) candidates.push({ h, a, d: boxDelta(hr.box, ar.box) + Math.abs(hr.score - ar.score) });
    }),
  );
  candidates.sort((x, y) => x.d - y.d);
  const usedH = new Set<number>();
  const usedA = new Set<number>();
  const pairs: Array<[number, number]> = [];
  for (const { h, a } of candidates) {
    if (usedH.has(h) || usedA.has(a)) continue;
    usedH.add(h);
    usedA.add(a);
    pairs.push([h, a]);
  }
  return pairs;
}

/** The rows of one image: every result compared (score >= minScore) on either side. */
function compareResults(host: Result[], arm64: Result[], o: Options): Row[] {
  const pairs = pairResults(host, arm64);
  const rows: Row[] = [];
  for (const [h, a] of pairs) {
    const hr = host[h]!;
    const ar = arm64[a]!;
    if (Math.max(hr.score, ar.score) < o.minScore) continue;
    const ds = Math.abs(hr.score - ar.score);
    const db = boxDelta(hr.box, ar.box);
    const problems = [ds > o.scoreTol ? `score differs by ${ds.toFixed(3)}` : '', db > o.boxTol ? `box differs by ${db.toFixed(3)}` : ''];
    const note = problems.filter(Boolean).join(', ');
    rows.push({ label: hr.label, host: hr, arm64: ar, ok: !note, note: note || 'ok' });
  }
  const lonely = (side: Result[], paired: Set<number>, otherFrom: number, otherName: string, own: 'host' | 'arm64'): void =>
    side.forEach((r, i) => {
      if (paired.has(i) || r.score < o.minScore) return;
      // The other side lists from otherFrom: it may have this result just below that and within tolerance.
      const couldBeBelow = r.score - o.scoreTol < otherFrom;
      rows.push({
        label: r.label,
        [own]: r,
        ok: couldBeBelow,
        note: couldBeBelow ? `not on ${otherName}: within ${o.scoreTol} of its cut-off ${otherFrom}` : `missing on ${otherName}`,
      });
    });
  lonely(host, new Set(pairs.map(([h]) => h)), o.arm64From, 'arm64', 'host');
  lonely(arm64, new Set(pairs.map(([, a]) => a)), o.hostFrom, 'host', 'arm64');
  return rows.sort((x, y) => (y.host?.score ?? y.arm64!.score) - (x.host?.score ?? x.arm64!.score));
}

function readDetectJsonl(file: string): ImageRun[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  if (lines.length === 0) throw new InputError(`${file}: no detect output in it`);
  return lines.map((line, i) => {
    try {
      const run = JSON.parse(line) as ImageRun;
      if (typeof run.image !== 'string' || !Array.isArray(run.results)) throw new Error('not a detect --json line');
      return { ...run, image: basename(run.image) };
    } catch (err) {
      throw new InputError(`${file} line ${i + 1}: ${(err as Error).message}`);
    }
  });
}

/** The daemon's detections payloads from `mosquitto_sub -v` output ("topic payload" a line). */
function readMqttDetections(file: string): Array<{ frame: { width: number; height: number }; results: Result[]; backend: string }> {
  const out = [];
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    const space = line.indexOf(' ');
    if (space < 0 || !line.slice(0, space).endsWith('/detections')) continue;
    try {
      out.push(JSON.parse(line.slice(space + 1)));
    } catch (err) {
      throw new InputError(`${file} line ${i + 1}: the detections payload is not JSON: ${(err as Error).message}`);
    }
  }
  return out;
}

const fmt = (r?: Result): string => (r ? r.score.toFixed(3) : '-');
const fmtBox = (row: Row): string => (row.host && row.arm64 ? boxDelta(row.host.box, row.arm64.box).toFixed(4) : '-');
const fmtDs = (row: Row): string => (row.host && row.arm64 ? Math.abs(row.host.score - row.arm64.score).toFixed(3) : '-');

function compareDetect(hostFile: string, arm64File: string, o: Options): boolean {
  const host = readDetectJsonl(hostFile);
  const arm64 = new Map(readDetectJsonl(arm64File).map((r) => [r.image, r]));
  console.log(`${'image'.padEnd(20)} ${'label'.padEnd(14)} ${'x86-64'.padStart(6)} ${'arm64'.padStart(6)} ${'dscore'.padStart(6)} ${'dbox'.padStart(6)}  verdict`);
  let ok = true;
  let compared = 0;
  let maxDs = 0;
  let maxDb = 0;
  for (const h of host) {
    const a = arm64.get(h.image);
    if (!a) {
      console.log(`${h.image.padEnd(20)} missing in the arm64 output  MISMATCH`);
      ok = false;
      continue;
    }
    if (a.width !== h.width || a.height !== h.height) {
      console.log(`${h.image.padEnd(20)} decoded as ${a.width}x${a.height} on arm64, ${h.width}x${h.height} here  MISMATCH`);
      ok = false;
    }
    const rows = compareResults(h.results, a.results, o);
    if (rows.length === 0) console.log(`${h.image.padEnd(20)} ${'(nothing)'.padEnd(14)} ${'-'.padStart(6)} ${'-'.padStart(6)} ${'-'.padStart(6)} ${'-'.padStart(6)}  ok`);
    for (const row of rows) {
      compared++;
      ok &&= row.ok;
      if (row.host && row.arm64) {
        maxDs = Math.max(maxDs, Math.abs(row.host.score - row.arm64.score));
        maxDb = Math.max(maxDb, boxDelta(row.host.box, row.arm64.box));
      }
      const verdict = row.ok ? row.note : `MISMATCH: ${row.note}`;
      console.log(`${h.image.padEnd(20)} ${row.label.padEnd(14)} ${fmt(row.host).padStart(6)} ${fmt(row.arm64).padStart(6)} ${fmtDs(row).padStart(6)} ${fmtBox(row).padStart(6)}  ${verdict}`);
    }
  }
  console.log(
    `${ok ? 'SAME' : 'DIFFERENT'}: ${host.length} images, ${compared} detections with score >= ${o.minScore}; ` +
      `max score difference ${maxDs.toFixed(4)} (tolerance ${o.scoreTol}), max box difference ${maxDb.toFixed(4)} (tolerance ${o.boxTol})`,
  );
  return ok;
}

function compareMqtt(hostFile: string, mqttFile: string, o: Options): boolean {
  const host = readDetectJsonl(hostFile);
  const bySize = new Map(host.map((h) => [`${h.width}x${h.height}`, h]));
  if (bySize.size !== host.length) throw new InputError(`${hostFile}: two images have the same size; frames cannot be told apart`);
  const messages = readMqttDetections(mqttFile);
  if (messages.length === 0) throw new InputError(`${mqttFile}: no detections message arrived`);
  const perImage = new Map<string, { frames: number; matching: number; problems: string[] }>();
  let ok = true;
  for (const m of messages) {
    const size = `${m.frame?.width}x${m.frame?.height}`;
    const h = bySize.get(size);
    if (!h) {
      console.log(`a ${size} frame matches none of the images  MISMATCH`);
      ok = false;
      continue;
    }
    const tally = perImage.get(h.image) ?? { frames: 0, matching: 0, problems: [] };
    perImage.set(h.image, tally);
    tally.frames++;
    const bad = compareResults(h.results, m.results, o).filter((r) => !r.ok);
    if (m.backend !== 'cpu') bad.push({ label: '', ok: false, note: `backend ${m.backend}, expected cpu` });
    if (bad.length === 0) tally.matching++;
    else tally.problems.push(...bad.map((r) => `${r.label} ${fmt(r.host)}/${fmt(r.arm64)}: ${r.note}`));
  }
  console.log(`${'image'.padEnd(20)} ${'frames'.padStart(6)} ${'same'.padStart(6)}  labels (x86-64 detect)`);
  for (const h of host) {
    const t = perImage.get(h.image);
    const labels = h.results.filter((r) => r.score >= o.minScore).map((r) => r.label).join(', ') || '(nothing)';
    console.log(`${h.image.padEnd(20)} ${String(t?.frames ?? 0).padStart(6)} ${String(t?.matching ?? 0).padStart(6)}  ${labels}`);
    for (const p of new Set(t?.problems ?? [])) console.log(`    MISMATCH ${p}`);
    if (t && t.matching < t.frames) ok = false;
  }
  const frames = [...perImage.values()].reduce((n, t) => n + t.frames, 0);
  console.log(`${ok ? 'SAME' : 'DIFFERENT'}: ${messages.length} detections messages from the arm64 daemon, ${frames} frames of ${perImage.size} images, compared with the x86-64 detect`);
  return ok;
}

function parseOptions(args: string[]): Options {
  const o: Options = { minScore: 0.5, hostFrom: 0.4, arm64From: 0.4, scoreTol: 0.02, boxTol: 0.02 };
  const keys: Record<string, keyof Options> = {
    '--min-score': 'minScore',
    '--host-from': 'hostFrom',
    '--arm64-from': 'arm64From',
    '--score-tol': 'scoreTol',
    '--box-tol': 'boxTol',
  };
  for (let i = 0; i < args.length; i += 2) {
    const key = keys[args[i]!];
    const value = Number(args[i + 1]);
    if (!key || !Number.isFinite(value)) throw new InputError(`bad option ${args[i]} ${args[i + 1] ?? ''}`);
    o[key] = value;
  }
  return o;
}

function main(argv: string[]): number {
  const [mode, hostFile, otherFile, ...rest] = argv;
  try {
    if ((mode !== 'detect' && mode !== 'mqtt') || !hostFile || !otherFile) {
      throw new InputError('usage: arm64-compare.ts detect|mqtt HOST.jsonl ARM64.jsonl|MQTT.txt [options]');
    }
    const o = parseOptions(rest);
    return (mode === 'detect' ? compareDetect(hostFile, otherFile, o) : compareMqtt(hostFile, otherFile, o)) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof InputError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    console.error(`arm64-compare: ${(err as Error).message}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
