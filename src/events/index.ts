export { ObjectTracker, trackIdSequence, type FrameInfo, type TrackerOptions } from './tracker.js';
export type { TrackerCounts, TrackerEvent, TrackerEventType } from './types.js';
export { bottomCentre, isMasked, pointInPolygon, validatePolygon, zonesOf, type Point, type Polygon } from './zones.js';
