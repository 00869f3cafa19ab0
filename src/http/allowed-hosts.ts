import { isIP } from 'node:net';
import os from 'node:os';

/**
 * Which Host headers the endpoint answers. A browser on the user's LAN can be made to send requests to us under an
 * attacker's domain name that resolves to our address (DNS rebinding); refusing unknown names stops it from reading
 * the snapshot or the stats. An IP address cannot be rebound, so IP literals are always served (that is how a LAN
 * user types the Pi's address), as are localhost names, the machine's own host name (and its .local mDNS name), the
 * listen address, and the names configured in http.allowedHosts.
 */
export class AllowedHosts {
  private readonly names: Set<string>;

  constructor(listenHost: string, configured: readonly string[] = [], hostname = os.hostname()) {
    const own = hostname.toLowerCase();
    this.names = new Set(['localhost', own, `${own}.local`, listenHost.toLowerCase(), ...configured.map((h) => h.toLowerCase())]);
  }

  /** Whether a request whose Host header is `header` may be served (an absent header is HTTP/1.0: served). */
  allows(header: string | undefined): boolean {
    if (header === undefined) return true;
    const host = hostOf(header);
    if (host === undefined) return false;
    if (isIP(host) !== 0) return true;
    return this.names.has(host) || host.endsWith('.localhost');
  }
}

/** The host part of a Host header, lower case, without port or IPv6 brackets; undefined when malformed. */
export function hostOf(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (bracketed) return bracketed[1];
  const plain = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?(?::\d{1,5})?$/.exec(h);
  return plain?.[1];
}
