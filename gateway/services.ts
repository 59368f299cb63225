// Services seen from outside, on one gateway router (pure, unit-tested): NodePort (<physical-ip>:<nodePort>),
// LoadBalancer ingress IPs and spec.externalIPs (<ip>:<port>), each an OVN load balancer on GR_<node> per
// (service, protocol). externalTrafficPolicy: Local keeps only this node's endpoints and skips the GR's SNAT so the
// client address reaches the pod; sessionAffinity: ClientIP becomes the LB's affinity_timeout.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { gatewayIds } from '../lib/ovn/names.js';

export const SERVICE_KEY = 'tessera.io/service';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Kubernetes' default ClientIP affinity timeout (3 h), within OVN's 65535 s maximum. */
const DEFAULT_AFFINITY_SECONDS = 10800;

export interface GatewayLb {
  name: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  vips: Record<string, string>;
  options: Record<string, string>;
  external_ids: Record<string, string>;
}

/** What the shared-NIC bridge must send to OVN instead of the host: node ports and external VIPs. */
export interface ExternalEntry {
  nodePorts: Array<{ protocol: 'tcp' | 'udp' | 'sctp'; port: number }>;
  vips: string[];
}

export const lbName = (node: string, ns: string, svc: string, proto: string): string => `gw_${node}_${ns}_${svc}_${proto}`;

function exposed(s: V1Service): boolean {
  const t = s.spec?.type;
  return t === 'NodePort' || t === 'LoadBalancer' || (s.spec?.externalIPs?.length ?? 0) > 0;
}

function ipv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** Ready IPv4 endpoints of the service's slices for the given service port, as ip:port. */
function backends(port: { name?: string }, slices: V1EndpointSlice[], onlyNode: string | undefined): string[] {
  const out = new Set<string>();
  for (const sl of slices) {
    if (sl.addressType !== 'IPv4') continue;
    const sp = (sl.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    if (!sp?.port) continue;
    for (const ep of sl.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      if (onlyNode !== undefined && ep.nodeName !== onlyNode) continue;
      for (const a of ep.addresses) if (ipv4(a)) out.add(`${a}:${sp.port}`);
    }
  }
  return [...out].sort();
}

export function slicesOf(svc: V1Service, all: V1EndpointSlice[]): V1EndpointSlice[] {
  return all.filter((sl) => sl.metadata?.namespace === svc.metadata?.namespace && sl.metadata?.labels?.[SERVICE_NAME_LABEL] === svc.metadata?.name);
}

export function gatewayLbs(
  services: V1Service[], slices: V1EndpointSlice[], o: { node: string; physicalIp: string },
): { lbs: GatewayLb[]; external: ExternalEntry } {
  const lbs: GatewayLb[] = [];
  const external: ExternalEntry = { nodePorts: [], vips: [] };
  const vipSet = new Set<string>();
  for (const svc of services) {
    if (!exposed(svc) || !svc.metadata?.name || !svc.metadata.namespace) continue;
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    const spec = svc.spec!;
    const local = spec.externalTrafficPolicy === 'Local';
    const extIps = [
      ...(spec.externalIPs ?? []),
      ...(spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '') : []),
    ].filter(ipv4);
    const mySlices = slicesOf(svc, slices);
    const byProto = new Map<GatewayLb['protocol'], Record<string, string>>();
    for (const p of spec.ports ?? []) {
      const proto = (p.protocol ?? 'TCP').toLowerCase() as GatewayLb['protocol'];
      const vips = byProto.get(proto) ?? {};
      const be = backends(p, mySlices, local ? o.node : undefined).join(',');
      if (p.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
        vips[`${o.physicalIp}:${p.nodePort}`] = be;
        external.nodePorts.push({ protocol: proto, port: p.nodePort });
      }
      for (const ip of extIps) {
        vips[`${ip}:${p.port}`] = be;
        vipSet.add(ip);
      }
      byProto.set(proto, vips);
    }
    for (const [proto, vips] of byProto) {
      if (Object.keys(vips).length === 0) continue;
      const options: Record<string, string> = { reject: 'true' };
      if (local) options.skip_snat = 'true';
      if (spec.sessionAffinity === 'ClientIP') {
        const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
        options.affinity_timeout = String(Math.min(Math.max(t, 1), 65535));
      }
      lbs.push({
        name: lbName(o.node, ns, name, proto), protocol: proto, vips, options,
        external_ids: { ...gatewayIds(o.node, 'service'), [SERVICE_KEY]: `${ns}/${name}` },
      });
    }
  }
  external.vips = [...vipSet].sort();
  external.nodePorts.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  lbs.sort((a, b) => a.name.localeCompare(b.name));
  return { lbs, external };
}
