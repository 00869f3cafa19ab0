import { isIP } from 'node:net';

/**
 * The live page's address as Home Assistant should link it (device configuration_url), or undefined when there is
 * none worth linking. The link opens in the browser of whoever looks at Home Assistant, usually on another machine:
 * - an endpoint bound to loopback (127.0.0.1, the default) cannot be reached from there, so no link at all rather
 *   than one that leads to the viewer's own machine;
 * - bound to every address (0.0.0.0, ::), the machine's name: `<hostname>.local` (mDNS, which Raspberry Pi OS and
 *   Home Assistant both speak) when the host name has no domain, else the name as it is;
 * - bound to one address or name, that one.
 * The HTTP endpoint answers to all of these names (see allowed-hosts.ts), so the link is not refused as rebinding.
 */
export function liveConfigurationUrl(host: string, port: number, hostname: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h === 'localhost' || h === '::1' || h.startsWith('127.')) return undefined;
  let name = host;
  if (h === '0.0.0.0' || h === '::' || h === '') name = hostname.includes('.') ? hostname : `${hostname}.local`;
  return `http://${isIP(name) === 6 ? `[${name}]` : name}:${port}/`;
}
