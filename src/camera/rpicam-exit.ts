import type { ExitVerdict, RunEnd } from './supervised-process.js';

interface Known {
  pattern: RegExp;
  verdict: (line: string) => ExitVerdict;
}

/*
 * What rpicam-vid (and libcamera under it) print when it fails, as reported in rpicam-apps and picamera2 issues.
 * rpicam-vid ends every failure with "ERROR: *** <what> ***" and exit code 255.
 */
const KNOWN: Known[] = [
  {
    // "INFO Camera camera.cpp:1008 Pipeline handler in use by another process" + "ERROR: *** failed to acquire camera ... ***"
    pattern: /Pipeline handler in use by another process|failed to acquire camera/i,
    verdict: () => ({ reason: 'camera busy: another process (rpicam app, picamera2, a leftover run) holds it' }),
  },
  {
    pattern: /no cameras available/i,
    verdict: () => ({
      reason: 'no cameras available: check the ribbon cable and camera_auto_detect / dtoverlay in /boot/firmware/config.txt',
      attention: true,
    }),
  },
  {
    pattern: /selected camera is not available|camera index .* out of range/i,
    verdict: () => ({ reason: 'the configured camera index does not exist (rpicam-vid --list-cameras lists them)', attention: true }),
  },
  {
    // "dmaHeap allocation failure for rpicam-apps0" / "failed to allocate capture buffers" / "Unable to request N buffers"
    pattern: /dmaHeap allocation failure|failed to allocate capture buffers|Unable to request \d+ buffers|Cannot allocate memory/i,
    verdict: () => ({ reason: 'camera buffers could not be allocated (CMA / dma-heap memory exhausted): lower the resolution or raise cma in config.txt' }),
  },
  {
    // boost::program_options: a bad extraArgs entry never gets better by restarting.
    pattern: /unrecognised option|unrecognized option|invalid option value|the argument .* is invalid|the required argument/i,
    verdict: (line) => ({ reason: `rpicam-vid rejected its arguments (check source.extraArgs): ${line}`, fatal: true }),
  },
];

/** Names why a run of rpicam-vid (or libcamera-vid) ended, and whether restarting makes sense. */
export function classifyRpicamExit(name: string, end: RunEnd): ExitVerdict {
  for (const line of [...end.stderr].reverse()) {
    const known = KNOWN.find((k) => k.pattern.test(line));
    if (known) return known.verdict(cleanLine(line));
  }
  const detail = lastError(end.stderr);
  if (end.signal) return { reason: `${name} crashed (killed by ${end.signal})${detail}` };
  if (end.code === 0) return { reason: `${name} ended although it was asked to run for ever (-t 0)${detail}` };
  return { reason: `${name} exited with code ${end.code}${detail}` };
}

/** The most telling stderr line: the last "ERROR" one, else the last one. */
function lastError(stderr: string[]): string {
  const line = [...stderr].reverse().find((l) => /\bERROR\b/.test(l)) ?? stderr.at(-1);
  return line ? `: ${cleanLine(line)}` : '';
}

/** "ERROR: *** no cameras available ***" -> "no cameras available"; libcamera's "[0:01:02.3] [123] ERROR X y.cpp:9 " prefix goes. */
function cleanLine(line: string): string {
  return line
    .replace(/^\[[^\]]*\]\s*\[\d+\]\s*/, '')
    .replace(/^ERROR:?\s*/, '')
    .replace(/^\*+\s*|\s*\*+$/g, '')
    .trim();
}
