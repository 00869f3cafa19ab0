import { toObject } from 'flatbuffers/js/flexbuffers.js';

/*
 * TOCO writes the four outputs of TFLite_Detection_PostProcess without shapes ([]); the runtime sets them in the
 * op's Prepare from its flexbuffer options. We do the same so that a description read from the file matches what
 * the interpreter reports: boxes [1,N,4], classes [1,N], scores [1,N], count [1], N = max_detections *
 * max_classes_per_detection (tensorflow/lite/kernels/detection_postprocess.cc).
 */

export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';

export interface DetectionPostProcessOptions {
  maxDetections: number;
  maxClassesPerDetection: number;
  numClasses: number;
}

/** Decodes the op's flexbuffer options; throws on a damaged or incomplete map. */
export function readDetectionPostProcessOptions(customOptions: Uint8Array): DetectionPostProcessOptions {
  // toObject wants a whole ArrayBuffer: copy the view out of the model buffer.
  const map = toObject(new Uint8Array(customOptions).buffer) as Record<string, unknown> | null;
  const int = (key: string, dflt?: number): number => {
    const value = map?.[key] ?? dflt;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(`${DETECTION_POSTPROCESS} options lack a valid ${key}`);
    }
    return value;
  };
  return {
    maxDetections: int('max_detections'),
    maxClassesPerDetection: int('max_classes_per_detection', 1),
    numClasses: int('num_classes'),
  };
}

/** The output shapes the runtime will give the op, in output order. */
export function detectionOutputShapes(options: DetectionPostProcessOptions): number[][] {
  const n = options.maxDetections * options.maxClassesPerDetection;
  return [[1, n, 4], [1, n], [1, n], [1]];
}
