import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A Coral seen on this machine, before any library touches it. */
export interface TpuDevice {
  kind: 'usb' | 'pci';
  /** sysfs or /dev path. */
  path: string;
  /** vendor:product for USB; the Coral changes from 1a6e:089a to 18d1:9302 once libedgetpu has loaded its firmware. */
  id?: string;
  /** USB link speed in Mbit/s (480 = USB 2: the Coral runs, slowly; 5000 = USB 3). */
  speedMbps?: number;
}

export const CORAL_USB_IDS = ['1a6e:089a', '18d1:9302'];

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Coral USB accelerators and PCIe/M.2 modules, from sysfs and /dev under `root` ("/" on a real system). */
export async function listTpus(root = '/'): Promise<TpuDevice[]> {
  const found: TpuDevice[] = [];
  const usbDir = join(root, 'sys', 'bus', 'usb', 'devices');
  const usb = await readdir(usbDir).catch(() => [] as string[]);
  for (const entry of usb.sort()) {
    const dir = join(usbDir, entry);
    const vendor = await readTrimmed(join(dir, 'idVendor'));
    const product = await readTrimmed(join(dir, 'idProduct'));
    if (!vendor || !product) continue;
    const id = `${vendor}:${product}`.toLowerCase();
    if (!CORAL_USB_IDS.includes(id)) continue;
    const speed = Number(await readTrimmed(join(dir, 'speed')));
    found.push({ kind: 'usb', path: dir, id, ...(Number.isFinite(speed) && speed > 0 ? { speedMbps: speed } : {}) });
  }
  const devDir = join(root, 'dev');
  const dev = await readdir(devDir).catch(() => [] as string[]);
  for (const entry of dev.filter((e) => /^apex_\d+$/.test(e)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))) {
    found.push({ kind: 'pci', path: join(devDir, entry) });
  }
  return found;
}

/**
 * Whether `device` (libedgetpu's syntax: "", usb, usb:N, pci, pci:N, :N) names one of the TPUs found. Returns the
 * reason when it does not, so logs and the detector topic can say what is missing.
 */
export function matchDevice(device: string, tpus: TpuDevice[]): { ok: true; tpu: TpuDevice } | { ok: false; reason: string } {
  const none = (what: string): { ok: false; reason: string } => ({ ok: false, reason: `no ${what} found${tpus.length ? ` (found: ${tpus.map((t) => t.kind).join(', ')})` : ''}` });
  if (device === '') return tpus[0] ? { ok: true, tpu: tpus[0] } : none('Edge TPU (USB ids 1a6e:089a / 18d1:9302, or /dev/apex_N)');
  const m = /^(usb|pci)?(?::(\d+))?$/.exec(device);
  if (!m) return { ok: false, reason: `invalid device "${device}"` };
  const kind = m[1] as 'usb' | 'pci' | undefined;
  const index = m[2] === undefined ? 0 : Number(m[2]);
  const pool = kind ? tpus.filter((t) => t.kind === kind) : tpus;
  const tpu = pool[index];
  return tpu ? { ok: true, tpu } : none(`Edge TPU "${device}"`);
}

export type LibraryProbe = { ok: true } | { ok: false; missing: boolean; reason: string };

/**
 * Whether the delegate library can be loaded, tried in a short-lived child process: loading libedgetpu runs its
 * initialisers, and we keep those out of the daemon. A library that loads but is not a Node addon answers "did not
 * self-register", which is success here. Missing libraries fail in well under a millisecond.
 */
export function probeLibrary(library: string, timeoutMs = 5000): Promise<LibraryProbe> {
  const script = 'try { process.dlopen({ exports: {} }, process.argv[1]); } catch (e) { process.stdout.write(String(e.message)); }';
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, library], { timeout: timeoutMs }, (err, stdout) => {
      if (err && !stdout) {
        resolve({ ok: false, missing: false, reason: `probe of ${library} failed: ${err.killed ? 'timed out' : err.message.split('\n')[0]}` });
        return;
      }
      const message = stdout.trim();
      if (message === '' || /self-register/i.test(message)) resolve({ ok: true });
      else if (/cannot open shared object file|no such file/i.test(message) && message.startsWith(library)) {
        resolve({ ok: false, missing: true, reason: `${library} not found (install Coral's libedgetpu1-std)` });
      } else resolve({ ok: false, missing: false, reason: `${library} cannot be loaded: ${message}` });
    });
  });
}
