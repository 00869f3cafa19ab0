import { createHook } from 'node:async_hooks';

/** Timers created by src/camera code that are still alive: a stopped source must leave none. */
export function trackSourceTimers(): { live: () => string[]; dispose: () => void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      const stack = new Error().stack ?? '';
      if (type === 'Timeout' && stack.includes('/src/camera/')) live.set(id, stack);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => [...live.values()], dispose: () => hook.disable() };
}
