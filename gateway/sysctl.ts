// The few per-interface sysctls the gateway manages, read and written through /proc/sys of its own netns.
import { readFileSync, writeFileSync } from 'node:fs';

const rpFilterPath = (dev: string): string => `/proc/sys/net/ipv4/conf/${dev}/rp_filter`;

/** net.ipv4.conf.<dev>.rp_filter ("0", "1" strict, "2" loose), or undefined if the device has no IPv4 conf. */
export function getRpFilter(dev: string): string | undefined {
  try {
    return readFileSync(rpFilterPath(dev), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function setRpFilter(dev: string, value: string): void {
  writeFileSync(rpFilterPath(dev), `${value}\n`);
}
