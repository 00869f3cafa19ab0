import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const MODELS = resolve(SHARED, 'models');
export const IMAGES = resolve(SHARED, 'images');

export const model = (file: string): string => resolve(MODELS, file);
export const image = (file: string): string => resolve(IMAGES, file);

export const SSD_V1 = model('coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite');
export const V1_025 = model('mobilenet_v1_0.25_128_quant.tflite');
export const V2_224 = model('mobilenet_v2_1.0_224_quant.tflite');
