/**
 * The topic levels of one camera under `<topicPrefix>/<device.id>/`. Publishers, the command handlers and Home
 * Assistant discovery all build their topics from these, so they cannot disagree.
 *
 * Counts live under `count/` (and `zones/<zone>/`), never directly under the camera: a label is any word a model
 * knows, and one named `status`, `events` or `snapshot` would otherwise land on (or next to) the camera's own topics.
 */

/** One level of a topic we publish to: no level separators or wildcards inside it. */
export function topicLevel(s: string): string {
  // eslint-disable-next-line no-control-regex
  const level = s.replace(/[/+#\u0000]/g, '_');
  return level.length > 0 ? level : '_';
}

export const cameraTopic = {
  detections: (camera: string): string[] => [topicLevel(camera), 'detections'],
  /** Object events (new / update / end), JSON. */
  events: (camera: string): string[] => [topicLevel(camera), 'events'],
  /** `{"state","reason","ts"}`, retained. */
  status: (camera: string): string[] => [topicLevel(camera), 'status'],
  /** Objects with this label in view, a plain number, retained. */
  count: (camera: string, label: string): string[] => [topicLevel(camera), 'count', topicLevel(label)],
  /** Every label's count topic of the camera, as a subscription filter. */
  countFilter: (camera: string): string[] => [topicLevel(camera), 'count', '+'],
  zoneCount: (camera: string, zone: string, label: string): string[] => [topicLevel(camera), 'zones', topicLevel(zone), topicLevel(label)],
  zoneCountFilter: (camera: string): string[] => [topicLevel(camera), 'zones', '+', '+'],
  /** `ON` while anything tracked is in view, else `OFF`, retained. */
  occupancy: (camera: string): string[] => [topicLevel(camera), 'occupancy'],
  /** `ON` while something moves in the picture (motion detection), else `OFF`, retained. */
  motion: (camera: string): string[] => [topicLevel(camera), 'motion'],
  /** The last sub-label a classifier gave an object event of the camera, JSON `{"subLabel","subScore","label","id","ts"}`, retained. */
  subLabel: (camera: string): string[] => [topicLevel(camera), 'sub_label'],
  /** The latest annotated frame, raw JPEG bytes, retained. */
  snapshot: (camera: string): string[] => [topicLevel(camera), 'snapshot'],
  /** Command: `PRESS` publishes the next annotated frame on `snapshot`. */
  snapshotSet: (camera: string): string[] => [topicLevel(camera), 'snapshot', 'set'],
  /** Command: `ON` / `OFF` resumes / pauses detection. */
  detectSet: (camera: string): string[] => [topicLevel(camera), 'detect', 'set'],
  /** `ON` / `OFF`, retained: whether the camera's frames are being detected. */
  detectState: (camera: string): string[] => [topicLevel(camera), 'detect', 'state'],
};

/** Camera topics before counts moved under `count/`: `<camera>/<label>`. Only for clearing what older versions left. */
export const legacyCountTopic = (camera: string, label: string): string[] => [topicLevel(camera), topicLevel(label)];

/** Levels the daemon itself uses directly under `<camera>/`: a legacy count topic with one of these names is not a count. */
export const CAMERA_LEVELS: ReadonlySet<string> = new Set(['detections', 'events', 'status', 'count', 'zones', 'occupancy', 'snapshot', 'detect', 'motion', 'sub_label']);

export const ON = 'ON';
export const OFF = 'OFF';
/** What `snapshot/set` takes (Home Assistant's button sends it). */
export const SNAPSHOT_PRESS = 'PRESS';
