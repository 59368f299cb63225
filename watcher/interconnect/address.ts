// The address of this AZ's router port on the transit switch `ts`: one per AZ in 169.254.100.0/24.
// Derived from the AZ name (stable across restarts and re-enables), then probed past addresses other
// AZs already hold in IC-SB Port_Binding, so two AZs never share one.
import { createHash } from 'node:crypto';
import { macFromIPv4 } from '../../lib/ovn/names.js';

export { TS_NAME, tsGatewayChassisName, tsRouterPort, tsSwitchPort } from '../../lib/ovn/names.js';
export const TS_SUBNET = '169.254.100.0/24';
const TS_BASE = '169.254.100.';
const HOSTS = 254; // .1 .. .254

/** First host offset (1..254) tried for an AZ name. */
export function preferredOffset(az: string): number {
  const h = createHash('sha256').update(az).digest();
  return (h.readUInt32BE(0) % HOSTS) + 1;
}

export interface TsPortAddress {
  ip: string;
  /** "169.254.100.N/24", the form Logical_Router_Port.networks holds. */
  cidr: string;
  mac: string;
}

export function addressAtOffset(offset: number): TsPortAddress {
  if (!Number.isInteger(offset) || offset < 1 || offset > HOSTS) throw new Error(`ts port offset ${offset} outside 1..${HOSTS}`);
  const ip = `${TS_BASE}${offset}`;
  return { ip, cidr: `${ip}/24`, mac: macFromIPv4(ip) };
}

/**
 * Picks this AZ's address: the preferred one, else the next free one (wrapping), skipping every IP in
 * `taken` (addresses of other AZs' ts ports). Throws when all 254 are taken.
 */
export function deriveTsPortAddress(az: string, taken: Iterable<string>): TsPortAddress {
  const used = new Set(taken);
  const start = preferredOffset(az);
  for (let i = 0; i < HOSTS; i++) {
    const off = ((start - 1 + i) % HOSTS) + 1;
    const a = addressAtOffset(off);
    if (!used.has(a.ip)) return a;
  }
  throw new Error(`no free address left in ${TS_SUBNET} for AZ "${az}": ${used.size} taken`);
}

/**
 * IPs in an IC-SB Port_Binding `address` ("00:00:00:50:AC:8C 169.254.100.45/24" or several words,
 * as OVN writes LSP addresses). Words that are not IPv4 addresses (MACs, "router") are skipped.
 */
export function ipsOfPortAddress(address: string): string[] {
  const out: string[] = [];
  for (const w of address.split(/\s+/)) {
    const ip = w.split('/')[0];
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) out.push(ip);
  }
  return out;
}

/**
 * Whether two AZs that collided must give way: the AZ whose name sorts later re-derives, so both sides
 * of a race settle on the same answer without talking to each other.
 */
export const yieldsTo = (ourAz: string, otherAz: string): boolean => ourAz > otherAz;
