import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliTestMs } from '../helpers/budgets.js';
import { runCli } from '../helpers/cli.js';
import { BROKEN_LIBRARY, STUB_LIBRARY } from '../helpers/edgetpu-stub.js';
import { makeTpuWorld, stubDetectorConfig } from '../helpers/tpu-world.js';

describe('mobilenet-edge devices', { timeout: cliTestMs(1) }, () => {
  const world = makeTpuWorld();
  writeFileSync(join(world.root, 'dev', 'video0'), '');
  writeFileSync(join(world.root, 'dev', 'apex_0'), '');
  const config = join(world.dir, 'devices.json');
  writeFileSync(config, JSON.stringify({ cameras: { c: { source: { type: 'files', path: world.dir } } }, detector: stubDetectorConfig(world) }));

  it('with libedgetpu present: lists the USB and PCIe TPUs and picks the Edge TPU', async () => {
    const r = await runCli(['devices', '--config', config, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.tpus).toEqual([
      { kind: 'usb', path: join(world.root, 'sys/bus/usb/devices/2-1'), id: '18d1:9302', speedMbps: 5000 },
      { kind: 'pci', path: join(world.root, 'dev/apex_0') },
    ]);
    expect(report.library).toEqual({ path: STUB_LIBRARY, ok: true });
    expect(report.cameras.video).toEqual([join(world.root, 'dev/video0')]);
    expect(report.auto.backend).toBe('edgetpu');
    const text = await runCli(['devices', '--config', config]);
    expect(text.stdout).toMatch(/usb .*18d1:9302.*USB 3/);
    expect(text.stdout).toMatch(/libedgetpu: .*libedgetpu-stub\.so\.1: loads/);
    expect(text.stdout).toMatch(/auto would pick: edgetpu/);
  }, cliTestMs(2));

  it('with libedgetpu absent: says so and picks the CPU', async () => {
    const r = await runCli(['devices', '--config', config, '--library', '/nonexistent/libedgetpu.so.1', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.library).toMatchObject({ ok: false, missing: true });
    expect(report.library.reason).toMatch(/not found \(install Coral's libedgetpu1-std\)/);
    expect(report.auto).toMatchObject({ backend: 'cpu' });
    expect(report.auto.why).toMatch(/not found/);
  });

  it('with a broken libedgetpu: gives the loader\'s reason and picks the CPU', async () => {
    const r = await runCli(['devices', '--config', config, '--library', BROKEN_LIBRARY, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.library).toMatchObject({ ok: false, missing: false });
    expect(report.library.reason).toMatch(/cannot be loaded: .*(file too short|invalid ELF header)/);
    expect(report.auto.backend).toBe('cpu');
  });

  it('with the library but no TPU plugged in: picks the CPU and says why', async () => {
    const empty = makeTpuWorld();
    const r = await runCli(['devices', '--library', STUB_LIBRARY, '--root', join(empty.dir, 'nothing-here'), '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.tpus).toEqual([]);
    expect(report.auto.backend).toBe('cpu');
    expect(report.auto.why).toMatch(/no Edge TPU .*found/);
  });
});
