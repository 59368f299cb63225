// CNI spec versions and result shapes. The agent speaks 1.x results; the shim prints the caller's version:
//  - 0.4.0: ips[] carry version "4"/"6"; interfaces and routes have no 1.1 attributes.
//  - 1.0.0: no ips[].version; still no 1.1 attributes.
//  - 1.1.0: interfaces[].mtu/socketPath/pciID and routes[].mtu/advmss/priority/table/scope allowed.
// prevResult arrives in the config's version (0.3.x/0.4.0 or 1.x) and is normalised to 1.x here.
import type { CniDns, CniInterface, CniIpConfig, CniRoute, Result1x } from '../lib/cni-protocol.js';
import { CniError, CniErrorCode } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';
/** Versions whose results we can read as prevResult (0.3.x results have the 0.4.0 shape). */
const READABLE_RESULT_VERSIONS = ['0.3.0', '0.3.1', ...SUPPORTED_VERSIONS];

export function isSupportedVersion(v: unknown): v is string {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

export function checkVersion(v: string): void {
  if (!isSupportedVersion(v)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `incompatible CNI versions: config is ${JSON.stringify(v)}, tessera-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
}

/** The result as printed in one spec version (JSON-ready). */
export interface ResultOut {
  cniVersion: string;
  interfaces: Record<string, unknown>[];
  ips: Record<string, unknown>[];
  routes: Record<string, unknown>[];
  dns: CniDns;
}

const isV11 = (v: string): boolean => v === '1.1.0';

function ipFamily(address: string): '4' | '6' {
  return address.includes(':') ? '6' : '4';
}

function pick<T extends object>(o: T, keys: readonly (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k as string] = o[k];
  return out;
}

const IFACE_1_0 = ['name', 'mac', 'sandbox'] as const;
const IFACE_1_1 = ['name', 'mac', 'mtu', 'sandbox', 'socketPath', 'pciID'] as const;
const ROUTE_1_0 = ['dst', 'gw'] as const;
const ROUTE_1_1 = ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] as const;

/** Converts a 1.x result to the shape of `version` (one of SUPPORTED_VERSIONS). */
export function formatResult(r: Result1x, version: string): ResultOut {
  const v11 = isV11(version);
  return {
    cniVersion: version,
    interfaces: (r.interfaces ?? []).map((i) => pick<CniInterface>(i, v11 ? IFACE_1_1 : IFACE_1_0)),
    ips: (r.ips ?? []).map((ip) => {
      const out: Record<string, unknown> = version === '0.4.0' ? { version: ipFamily(ip.address) } : {};
      return { ...out, ...pick<CniIpConfig>(ip, ['address', 'gateway', 'interface']) };
    }),
    routes: (r.routes ?? []).map((rt) => pick<CniRoute>(rt, v11 ? ROUTE_1_1 : ROUTE_1_0)),
    dns: r.dns ?? {},
  };
}

/**
 * Reads a prevResult (already schema-checked for field types) into the 1.x shape: drops ips[].version,
 * checks that every ips[].interface points at an existing interface.
 */
export function parsePrevResult(raw: Record<string, unknown>): Result1x {
  const version = raw.cniVersion;
  if (typeof version !== 'string' || !READABLE_RESULT_VERSIONS.includes(version)) {
    throw new CniError(CniErrorCode.IncompatibleVersion, `prevResult has unsupported cniVersion ${JSON.stringify(version)}`);
  }
  const interfaces = ((raw.interfaces as CniInterface[] | undefined) ?? []).map((i) => ({ ...i }));
  const ips = ((raw.ips as (CniIpConfig & { version?: string })[] | undefined) ?? []).map((ip, n) => {
    const { version: _family, ...rest } = ip;
    if (rest.interface !== undefined && rest.interface >= interfaces.length) {
      throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: prevResult.ips[${n}].interface ${rest.interface} has no matching entry in prevResult.interfaces`);
    }
    return rest;
  });
  const out: Result1x = { cniVersion: version, interfaces, ips, routes: ((raw.routes as CniRoute[] | undefined) ?? []).map((r) => ({ ...r })) };
  if (raw.dns) out.dns = raw.dns as CniDns;
  return out;
}

/**
 * ADD in a chain after another interface plugin: keep what came before, append ours, shifting our
 * ips[].interface indexes past the previous interfaces.
 */
export function mergeResults(prev: Result1x | undefined, ours: Result1x): Result1x {
  if (!prev) return ours;
  const shift = prev.interfaces?.length ?? 0;
  const dns = ours.dns && Object.keys(ours.dns).length ? ours.dns : prev.dns;
  return {
    cniVersion: ours.cniVersion,
    interfaces: [...(prev.interfaces ?? []), ...(ours.interfaces ?? [])],
    ips: [...(prev.ips ?? []), ...(ours.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + shift }))],
    routes: [...(prev.routes ?? []), ...(ours.routes ?? [])],
    ...(dns ? { dns } : {}),
  };
}
