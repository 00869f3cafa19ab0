/** Pixel work shared by camera, pipeline and inference: I420 layouts, colour conversion, resize planning and resizing. */
export { i420Layout, type I420Layout, type StrideRule } from './i420-layout.js';
export { i420ToRgb } from './i420-rgb.js';
export { i420CropToRgb, i420ToRgbResized, I420Resizer, planCrop, type CropRect } from './i420-resize.js';
export { planResize, type Geometry, type ResizeMode, type ResizePlan } from './resize-plan.js';
export { rgbResized, suitsBilinear } from './rgb-resize.js';
export { cropResizeI420, cropResizeRgb, squareCropRect, type NormBox, type PixelRect } from './crop.js';
