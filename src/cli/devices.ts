import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type DetectorConfig } from '../config/index.js';
import { deviceList } from '../inference/create-detector.js';
import { edgetpuModelPath } from '../inference/detector-models.js';
import { listTpus, matchDevice, probeLibrary, type LibraryProbe, type TpuDevice } from '../inference/edgetpu/probe.js';
import { packageRoot } from '../system/paths.js';
import { EXIT, type CliIo } from './exit-codes.js';

export const DEVICES_HELP = `Usage: mobilenet-edge devices [--config FILE] [--library LIB] [--root DIR] [--json]

Lists what this machine offers the daemon: Edge TPUs (USB accelerators by USB id, PCIe/M.2 modules as /dev/apex_N),
whether libedgetpu loads, cameras (rpicam-hello --list-cameras when installed, /dev/video*), and which backend
"auto" would pick and why. Reads detector.edgetpu.* from the config when one is found.

Options:
  --config FILE   config to take the Edge TPU library, device and model from
  --library LIB   libedgetpu to probe (default: the config's, else libedgetpu.so.1)
  --root DIR      where sys/ and dev/ are (default: the config's probeRoot, else /)
  --json          one JSON object instead of text
`;

interface DevicesReport {
  tpus: TpuDevice[];
  library: { path: string } & LibraryProbe;
  cameras: { rpicam: string[] | { error: string }; video: string[] };
  auto: { backend: 'edgetpu' | 'cpu'; why: string };
}

function rpicamCameras(): Promise<string[] | { error: string }> {
  return new Promise((resolve) => {
    execFile('rpicam-hello', ['--list-cameras'], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve({ error: 'rpicam-hello not installed' });
      else if (err) resolve({ error: (stderr || err.message).trim().split('\n').slice(-1)[0] ?? 'failed' });
      else resolve(stdout.split('\n').filter((l) => /^\s*\d+\s*:/.test(l)).map((l) => l.trim()));
    });
  });
}

export async function devicesReport(detector: Pick<DetectorConfig, 'edgetpu' | 'model' | 'backend'>, root: string): Promise<DevicesReport> {
  const [tpus, library, rpicam, dev] = await Promise.all([
    listTpus(root),
    probeLibrary(detector.edgetpu.library),
    rpicamCameras(),
    readdir(join(root, 'dev')).catch(() => [] as string[]),
  ]);
  const video = dev.filter((d) => /^video\d+$/.test(d)).map((d) => join(root, 'dev', d));
  let auto: DevicesReport['auto'];
  const devices = deviceList(detector as DetectorConfig);
  const unmatched = devices.map((d) => ({ d, m: matchDevice(d, tpus) })).filter((x) => !x.m.ok);
  if (!library.ok) auto = { backend: 'cpu', why: library.reason };
  else if (unmatched.length === devices.length) auto = { backend: 'cpu', why: unmatched.map((x) => (x.m as { reason: string }).reason).join('; ') };
  else if (detector.model && !edgetpuModelPath(detector as DetectorConfig)) auto = { backend: 'cpu', why: 'no Edge TPU model configured (detector.model.edgetpu)' };
  else auto = { backend: 'edgetpu', why: `libedgetpu loads and ${devices.length - unmatched.length} of ${devices.length} configured TPU(s) are present` };
  return { tpus, library: { path: detector.edgetpu.library, ...library }, cameras: { rpicam, video }, auto };
}

export async function devicesCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { config: { type: 'string' }, library: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(DEVICES_HELP);
    return EXIT.OK;
  }
  let detector: Pick<DetectorConfig, 'edgetpu' | 'model' | 'backend'> = {
    backend: 'auto',
    model: { cpu: null, edgetpu: null },
    edgetpu: { device: '', library: 'libedgetpu.so.1', probeRoot: '/' },
  };
  try {
    detector = loadConfig({ ...(values.config ? { file: values.config } : {}), env: process.env, projectRoot: packageRoot(), checkFiles: false }).config.detector;
  } catch (err) {
    // Without a config the defaults say enough; a config that was asked for must be valid.
    if (values.config || !(err instanceof ConfigError)) throw err;
  }
  const edgetpu = { ...detector.edgetpu, ...(values.library ? { library: values.library } : {}) };
  const report = await devicesReport({ ...detector, edgetpu }, values.root ?? edgetpu.probeRoot);
  if (values.json) {
    io.stdout.write(JSON.stringify(report) + '\n');
    return EXIT.OK;
  }
  const w = (s: string): void => void io.stdout.write(s + '\n');
  w('Edge TPUs:');
  if (report.tpus.length === 0) w('  none found (USB ids 1a6e:089a / 18d1:9302, or /dev/apex_N)');
  for (const t of report.tpus) {
    const speed = t.speedMbps ? `, ${t.speedMbps >= 5000 ? 'USB 3' : 'USB 2 (slow: use a USB 3 port)'} ${t.speedMbps} Mbit/s` : '';
    const state = t.id === '1a6e:089a' ? ' (not yet initialised by libedgetpu)' : '';
    w(`  ${t.kind}  ${t.path}${t.id ? `  ${t.id}${state}` : ''}${speed}`);
  }
  w(`libedgetpu: ${report.library.path}: ${report.library.ok ? 'loads' : report.library.reason}`);
  w('Cameras:');
  const r = report.cameras.rpicam;
  w(Array.isArray(r) ? (r.length ? r.map((c) => `  rpicam ${c}`).join('\n') : '  rpicam: no cameras listed') : `  rpicam: ${r.error}`);
  w(report.cameras.video.length ? report.cameras.video.map((v) => `  ${v}`).join('\n') : '  no /dev/video* devices');
  w(`auto would pick: ${report.auto.backend} (${report.auto.why})`);
  return EXIT.OK;
}
