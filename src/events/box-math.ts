/** Box arithmetic lives in src/geometry (motion regions use it too); re-exported for the tracker. */
export { area, centre, iou, shiftBox } from '../geometry/box.js';
