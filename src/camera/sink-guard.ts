import type { Logger } from '../system/logger.js';
import type { FrameSink } from './frame.js';

/**
 * Sources call their sink from timer and stream callbacks, where a throw would become an uncaught exception
 * and take the daemon down (or silently stop a frame loop). A faulty sink is logged instead.
 * The guarded sink always has `status`: a no-op when the owner does not listen for it.
 */
export function guardSink(sink: FrameSink, logger: Logger): Required<FrameSink> {
  const guard =
    <A extends unknown[]>(name: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        logger.error({ err }, `frame sink ${name}() threw`);
      }
    };
  return {
    frame: guard('frame', (f) => sink.frame(f)),
    skipped: guard('skipped', (o, r) => sink.skipped(o, r)),
    ended: guard('ended', (r) => sink.ended(r)),
    status: guard('status', (s, r) => sink.status?.(s, r)),
  };
}
