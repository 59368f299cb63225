// The watcher's Neutron pod-port mode (Kuryr's layouts): flags → typed config. `--neutron-secret` turns it on and
// names the Secret with the endpoint and credentials (never a flag); the rest are the defaults every pod port gets
// unless its Namespace says otherwise (namespace.ts).
import { ConfigError } from '../../lib/cli.js';
import type { FlagSpec } from '../../lib/cli.js';

export const NEUTRON_PORT_FLAGS: Record<string, FlagSpec> = {
  'neutron-secret': { type: 'string', help: 'NAMESPACE/NAME of the Secret with the Neutron endpoint and credentials (OS_* keys); turns on Neutron pod ports (Kuryr layouts)' },
  'neutron-network': { type: 'string', help: 'Neutron network id pod ports go on (with --neutron-secret)' },
  'neutron-subnet': { type: 'string', help: 'Neutron subnet id pod ports take their address from (with --neutron-secret)' },
  'neutron-security-group': { type: 'string', multiple: true, help: 'Neutron security group id for pod ports (repeatable; default: the project\'s default group)' },
  'neutron-cluster-name': { type: 'string', help: 'cluster name in the tags of the Neutron ports this watcher creates', default: 'kubernetes' },
};

export interface NeutronPortsConfig {
  secret: { namespace: string; name: string };
  networkId: string;
  subnetId: string;
  /** Empty: Neutron's default for the project. */
  securityGroups: string[];
  cluster: string;
}

/** Neutron ids are UUIDs; anything else in a flag or an annotation is refused before it reaches a URL path. */
export const NEUTRON_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function id(flag: string, v: unknown): string {
  if (typeof v !== 'string' || !NEUTRON_ID_RE.test(v)) throw new ConfigError(`--${flag} must be a Neutron id (UUID): "${String(v ?? '')}"`);
  return v;
}

/** The Neutron pod-port config, or undefined when --neutron-secret is not given; ConfigError names the flag. */
export function parseNeutronPortsConfig(v: Record<string, unknown>): NeutronPortsConfig | undefined {
  const secret = v['neutron-secret'];
  if (secret === undefined) {
    for (const f of ['neutron-network', 'neutron-subnet', 'neutron-security-group']) {
      if (v[f] !== undefined) throw new ConfigError(`--${f} needs --neutron-secret`);
    }
    return undefined;
  }
  const m = typeof secret === 'string' ? /^([^/]+)\/([^/]+)$/.exec(secret) : null;
  if (!m || !DNS_LABEL.test(m[1]!) || !DNS_SUBDOMAIN.test(m[2]!)) throw new ConfigError(`--neutron-secret must be NAMESPACE/NAME: "${String(secret)}"`);
  const groups = v['neutron-security-group'];
  const cluster = String(v['neutron-cluster-name'] ?? 'kubernetes');
  if (!DNS_SUBDOMAIN.test(cluster) || cluster.length > 63) throw new ConfigError(`--neutron-cluster-name must be a DNS name of at most 63 characters: "${cluster}"`);
  return {
    secret: { namespace: m[1]!, name: m[2]! },
    networkId: id('neutron-network', v['neutron-network']),
    subnetId: id('neutron-subnet', v['neutron-subnet']),
    securityGroups: (Array.isArray(groups) ? groups : []).map((g) => id('neutron-security-group', g)),
    cluster,
  };
}
