import { filtersConfig } from '../config/detector-config.js';
import type { PipelineOptions } from '../pipeline/camera-pipeline.js';
import type { PublishOptions } from '../publish/mqtt-publisher.js';

/**
 * A bench camera's pipeline settings: as fast as the detector goes, stretched to the model's input, the daemon's
 * default filters (from the schema); `publish` and anything else (motion, a classify stage) as the run needs.
 */
export function benchPipelineOptions(camera: string, publish: PublishOptions, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  return { camera, detectFps: 0, resize: 'stretch', filters: filtersConfig(), publish, ...extra };
}
