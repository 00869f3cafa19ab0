/** Motion detection and detection regions: the stage between camera and pipeline (see docs/motion.md). */
export { LumaPlane, MOTION_PLANE_WIDTH } from './luma-plane.js';
export { MotionDetector, GLOBAL_CHANGE, SETTLE_FRAMES, type MotionOptions, type MotionResult } from './motion-detector.js';
export { RegionPlanner, RECHECK_SEC, type FramePlan, type PlannerOptions, type Trigger } from './region-planner.js';
export { coversFrame, fitAspect, planRegions, rectToBox, regionAround, REGION_MARGIN, type Rect, type RegionOptions } from './regions.js';
