// Validation of what a pod may ask for (the Kube-OVN ip_address / mac_address annotations). Anyone who
// can patch a pod writes these, so nothing reaches NB's addresses or port_security unchecked: a MAC
// must be one ordinary unicast address, an IP one free pod address of the pod's own subnet.
import { parseIP, type IPAddr } from '../../lib/ipnet/index.js';
import type { SubnetIPAM } from './pod-ipam.js';

/** A request the watcher will not honour; the message is what the pod's Warning Event says, `reason` its reason. */
export class RequestRefusedError extends Error {
  constructor(message: string, readonly reason?: string) {
    super(message);
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** MACs Tessera derives from pod IPs (macFromIP); a request may not take one a later pod will get. */
export const DERIVED_MAC_PREFIX = '0a:58:';

/** Why `mac` (lower case) cannot be a pod's MAC, or undefined when it can. */
export function macProblem(mac: string): string | undefined {
  if (!MAC_RE.test(mac)) return 'is not a MAC address (six colon-separated hex octets)';
  if (parseInt(mac.slice(0, 2), 16) & 1) return 'is a multicast or broadcast MAC';
  if (mac === '00:00:00:00:00:00') return 'is the all-zero MAC';
  return undefined;
}

/**
 * The MAC a pod asked for, lower-cased, if it is one it may have: well-formed, unicast, not all-zero,
 * outside the derived 0a:58 range, and not used by another port on its switch (`usedBy` says which: "port X", "pod ns/name").
 */
export function requestedMac(annotation: string, raw: string, usedBy: (mac: string) => string | undefined): string {
  const mac = raw.trim().toLowerCase();
  const problem = macProblem(mac);
  if (problem) throw new RequestRefusedError(`${annotation}="${raw}" ${problem}`);
  if (mac.startsWith(DERIVED_MAC_PREFIX)) throw new RequestRefusedError(`${annotation}="${raw}" is in ${DERIVED_MAC_PREFIX}*, which Tessera derives from pod IPs`);
  const other = usedBy(mac);
  if (other) throw new RequestRefusedError(`${annotation}="${raw}" is already used by ${other}`);
  return mac;
}

/** The first address of a Kube-OVN ip_address request ("10.244.1.5", "10.244.1.5/24", "a,b"). */
export function requestedIP(annotation: string, raw: string): IPAddr {
  const text = raw.split(',')[0].trim().replace(/\/\d{1,3}$/, '');
  try {
    return parseIP(text);
  } catch {
    throw new RequestRefusedError(`${annotation}="${raw}" is not an IP address`);
  }
}

/** Refuses an IP `owner` may not take in `sipam`: outside the subnet, excluded (network, gateway, management, broadcast) or taken. */
export function checkRequestedIP(sipam: SubnetIPAM, ip: IPAddr, owner: string): void {
  const problem = sipam.problem(ip, owner);
  if (problem) throw new RequestRefusedError(`requested address refused: ${problem}`);
}
