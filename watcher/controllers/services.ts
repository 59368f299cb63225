// Service controller: a ClusterIP Service → one OVN Load_Balancer per protocol, VIP clusterIP:port →
// ready endpoints' ip:targetPort (from EndpointSlices), updated in place. No ready endpoints →
// options:reject=true (clients get a reset instead of a black hole). sessionAffinity ClientIP →
// selection_fields=ip_src plus options:affinity_timeout. The LBs join the cluster LB group, which is
// attached to every node switch, unless all endpoints are in one custom Vpc (service-vpc.ts): then they hang
// on that Vpc's Subnet switches. NodePort/LoadBalancer are the gateway's.
import type { V1Service, V1EndpointSlice } from '@kubernetes/client-node';
import { isIP } from '../../lib/ipnet/index.js';
import type { WatcherContext } from '../context.js';
import { SLICE_BY_SERVICE, splitKey } from '../kube-view.js';
import { Txn } from '../../lib/ovn/txn.js';
import { commit } from '../../lib/ovn/commit.js';
import {
  attachLoadBalancer, deleteLoadBalancer, detachLoadBalancer, ensureLoadBalancer, groupAddLoadBalancer, groupRemoveLoadBalancer, type LoadBalancerSpec,
} from '../../lib/ovn/load-balancer.js';
import { formatIP } from '../../lib/ipnet/index.js';
import { serviceHome, switchVpc, vpcSwitches, type ServiceHome } from './service-vpc.js';
import { ownerIds, ownedBy } from '../../lib/ovn/names.js';
import { CLUSTER_LB_GROUP, serviceLoadBalancer } from '../../lib/ovn/names.js';

const PROTOCOLS = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' } as const;
type Proto = (typeof PROTOCOLS)[keyof typeof PROTOCOLS];
const DEFAULT_AFFINITY_SECONDS = 10800;

const vipKey = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** Pure: the LB rows a service should have, by protocol. */
export function serviceLoadBalancers(svc: V1Service, slices: V1EndpointSlice[]): LoadBalancerSpec[] {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP ?? '']).filter((ip) => ip && ip !== 'None' && isIP(ip));
  if (clusterIPs.length === 0) return [];
  const byProto = new Map<Proto, Record<string, string>>();
  for (const sp of spec.ports ?? []) {
    const proto = PROTOCOLS[(sp.protocol ?? 'TCP') as keyof typeof PROTOCOLS];
    if (!proto) continue;
    const backends = new Set<string>();
    for (const slice of slices) {
      const port = (slice.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
      if (!port?.port) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const a of ep.addresses ?? []) if (isIP(a)) backends.add(vipKey(a, port.port));
      }
    }
    const vips = byProto.get(proto) ?? {};
    for (const ip of clusterIPs) {
      // Only backends of the VIP's family.
      const fam = ip.includes(':');
      vips[vipKey(ip, sp.port)] = [...backends].filter((b) => b.startsWith('[') === fam).sort().join(',');
    }
    byProto.set(proto, vips);
  }
  const affinity = spec.sessionAffinity === 'ClientIP';
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
  return [...byProto].map(([proto, vips]) => ({
    name: serviceLoadBalancer(ns, name, proto),
    protocol: proto,
    vips,
    options: { reject: 'true', ...(affinity ? { affinity_timeout: String(timeout) } : {}) },
    selection_fields: affinity ? ['ip_src'] : [],
    external_ids: ownerIds('service', `${ns}/${name}`, { 'tessera.io/protocol': proto }),
  }));
}

export class ServiceController {
  /** The last Vpc problem reported per Service, so a Warning Event goes out once per distinct problem. */
  private readonly warned = new Map<string, string>();

  constructor(private readonly ctx: WatcherContext) {}

  private home(key: string): ServiceHome {
    const { ctx } = this;
    return serviceHome(ctx.stores.endpointSlices.byIndex(SLICE_BY_SERVICE, key), {
      holding: (pod) => {
        const h = ctx.ipam.holding(pod);
        return h && { ls: h.ls, ip: formatIP(h.ip) };
      },
      switches: () => ctx.nb.cache.list('Logical_Switch'),
    });
  }

  private async report(key: string, home: ServiceHome): Promise<void> {
    const svc = this.ctx.stores.services.get(key);
    const problem = svc ? (home.problem ?? '') : '';
    if ((this.warned.get(key) ?? '') === problem) return;
    if (problem) this.warned.set(key, problem);
    else this.warned.delete(key);
    if (!problem || !svc) return;
    this.ctx.log.warn(`service ${key}: ${problem}`);
    const ref = { kind: 'Service' as const, namespace: svc.metadata?.namespace, name: svc.metadata?.name ?? '', uid: svc.metadata?.uid };
    await this.ctx.kube.event(ref, 'Warning', 'EndpointsInSeveralVpcs', problem).catch(() => {});
  }

  /** Service keys with LBs of ours but no service (for reconcile). */
  staleKeys(): string[] {
    return this.ctx.nb.cache
      .list('Load_Balancer')
      .map((lb) => ownedBy(lb.external_ids, 'service'))
      .filter((k): k is string => !!k && !this.ctx.stores.services.get(k));
  }

  async sync(key: string): Promise<void> {
    const { ctx } = this;
    const svc = ctx.stores.services.get(key);
    const want = svc ? serviceLoadBalancers(svc, ctx.stores.endpointSlices.byIndex(SLICE_BY_SERVICE, key)) : [];
    const txn = new Txn(ctx.nb.cache, `service ${key}`);
    const keep = new Set(want.map((w) => w.name));
    const home = want.length ? this.home(key) : {};
    const switches = ctx.nb.cache.list('Logical_Switch');
    const inVpc = home.vpc ? vpcSwitches(switches, home.vpc) : [];
    for (const spec of want) {
      const lb = ensureLoadBalancer(txn, spec);
      if (!home.vpc) groupAddLoadBalancer(txn, CLUSTER_LB_GROUP, lb);
      else if (typeof lb === 'string') groupRemoveLoadBalancer(txn, CLUSTER_LB_GROUP, lb);
      for (const ls of inVpc) attachLoadBalancer(txn, 'Logical_Switch', ls, lb);
      // Off the Subnet switches of any other custom Vpc (the endpoints moved).
      if (typeof lb === 'string') for (const ls of switches) if (switchVpc(ls) && switchVpc(ls) !== home.vpc) detachLoadBalancer(txn, ls, lb);
    }
    // LBs of this service that should not exist (protocol gone, service gone, now headless).
    const { namespace = 'default', name } = splitKey(key);
    for (const proto of Object.values(PROTOCOLS)) {
      const n = serviceLoadBalancer(namespace, name, proto);
      if (keep.has(n)) continue;
      const lb = ctx.nb.cache.lookup('Load_Balancer', 'name', n);
      if (lb && ownedBy(lb.external_ids, 'service') === key) deleteLoadBalancer(txn, n);
    }
    await commit(ctx.nb, txn);
    await this.report(key, home);
  }
}
