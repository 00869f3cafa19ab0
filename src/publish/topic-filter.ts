/**
 * Whether `topic` matches the MQTT subscription `filter` (`+` one level, `#` the rest), as the broker decides it:
 * the publisher hands each incoming message to the handlers whose filter matches, since one message may answer a
 * wildcard subscription and an exact one.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
