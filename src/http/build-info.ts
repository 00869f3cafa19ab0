import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AppConfig } from '../config/index.js';
import { packageRoot } from '../system/paths.js';
import type { BuildInfo } from './metrics.js';

/** The labels of `mobilenet_edge_build_info`: this package's version, Node.js's, and the configured models. */
export function buildInfo(detector: AppConfig['detector'], root = packageRoot()): BuildInfo {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const { cpu, edgetpu } = detector.model;
  return {
    version,
    nodejsVersion: process.version,
    model: basename((detector.backend === 'cpu' ? cpu : (edgetpu ?? cpu)) ?? ''),
    cpuModel: cpu ? basename(cpu) : '',
    backendSetting: detector.backend,
  };
}
