// Defaulting and validation per kind: the subset of the real API server's rules that a network
// plugin would trip over (names, labels, pod and service shape, immutable fields, service IPs).
import { canonicalJson, jsonEqual, type KubeObject, type ResourceType } from './resources.js';
import type { StatusCause } from './status.js';
import { labelKeyError, labelValueError } from './selectors.js';
import { validateCustom } from './crds.js';

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function nameError(kind: string, name: string): string | undefined {
  if (LABEL_NAMED.has(kind)) {
    if (name.length > 63 || !DNS_LABEL_RE.test(name)) return `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`;
  } else if (name.length > 253 || !DNS_SUBDOMAIN_RE.test(name)) {
    return `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

function validateMeta(obj: KubeObject, causes: StatusCause[]): void {
  const m = obj.metadata;
  const err = nameError(obj.kind as string, m.name ?? '');
  if (err) causes.push({ field: 'metadata.name', message: err });
  if (m.labels !== undefined) {
    if (!isObj(m.labels)) causes.push({ field: 'metadata.labels', message: 'must be a map of strings' });
    else
      for (const [k, v] of Object.entries(m.labels)) {
        const ke = labelKeyError(k);
        if (ke) causes.push({ field: 'metadata.labels', message: `Invalid value: ${ke}` });
        if (typeof v !== 'string') causes.push({ field: `metadata.labels[${k}]`, message: 'must be a string' });
        else {
          const ve = labelValueError(v);
          if (ve) causes.push({ field: `metadata.labels[${k}]`, message: `Invalid value: ${ve}` });
        }
      }
  }
  if (m.annotations !== undefined) {
    if (!isObj(m.annotations)) causes.push({ field: 'metadata.annotations', message: 'must be a map of strings' });
    else for (const [k, v] of Object.entries(m.annotations)) if (typeof v !== 'string') causes.push({ field: `metadata.annotations[${k}]`, message: 'must be a string' });
  }
  if (m.finalizers !== undefined && (!Array.isArray(m.finalizers) || m.finalizers.some((f) => typeof f !== 'string'))) causes.push({ field: 'metadata.finalizers', message: 'must be a list of strings' });
}

/** Service cluster IP and node port bookkeeping, so two services never share an address. */
export class ServiceAllocator {
  private readonly base: number;
  private readonly size: number;
  private next = 10;
  private readonly used = new Set<string>();
  private readonly usedPorts = new Set<number>();
  private nextPort = 30000;
  /** Undo steps for the allocations of the request in progress; a rejected request rolls them back. */
  private journal: (() => void)[] = [];

  constructor(cidr: string) {
    const [ip, bits] = cidr.split('/');
    const parts = ip.split('.').map(Number);
    const prefix = Number(bits);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)) || !(prefix >= 8 && prefix <= 30)) throw new Error(`invalid service CIDR "${cidr}"`);
    this.size = 2 ** (32 - prefix);
    this.base = (((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0) & ~(this.size - 1);
    // .1 belongs to the "kubernetes" service in a real cluster.
    this.used.add(this.ip(1));
  }

  private ip(offset: number): string {
    const n = (this.base + offset) >>> 0;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  begin(): void {
    this.journal = [];
  }

  rollback(): void {
    for (const undo of this.journal.reverse()) undo();
    this.journal = [];
  }

  private take(ip: string): void {
    this.used.add(ip);
    this.journal.push(() => this.used.delete(ip));
  }

  private takePort(p: number): void {
    this.usedPorts.add(p);
    this.journal.push(() => this.usedPorts.delete(p));
  }

  inRange(ip: string): boolean {
    const p = ip.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255) || !Number.isInteger(x))) return false;
    const n = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
    return n > this.base && n < this.base + this.size - 1;
  }

  allocate(): string | undefined {
    for (let i = 0; i < this.size - 2; i++) {
      const off = 1 + ((this.next - 1 + i) % (this.size - 2));
      const ip = this.ip(off);
      if (!this.used.has(ip)) {
        this.take(ip);
        this.next = off + 1;
        return ip;
      }
    }
    return undefined;
  }

  claim(ip: string): boolean {
    if (this.used.has(ip)) return false;
    this.take(ip);
    return true;
  }

  release(ip: string): void {
    this.used.delete(ip);
  }

  allocatePort(): number | undefined {
    for (let i = 0; i < 2768; i++) {
      const p = 30000 + ((this.nextPort - 30000 + i) % 2768);
      if (!this.usedPorts.has(p)) {
        this.takePort(p);
        this.nextPort = p + 1;
        return p;
      }
    }
    return undefined;
  }

  claimPort(p: number): boolean {
    if (p < 30000 || p > 32767 || this.usedPorts.has(p)) return false;
    this.takePort(p);
    return true;
  }

  releasePort(p: number): void {
    this.usedPorts.delete(p);
  }
}

function validatePod(obj: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  if (!spec) {
    causes.push({ field: 'spec', message: 'Required value' });
    return;
  }
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) causes.push({ field: 'spec.containers', message: 'Required value' });
  else
    containers.forEach((c: unknown, i) => {
      if (!isObj(c) || typeof c.name !== 'string' || !DNS_LABEL_RE.test(c.name)) causes.push({ field: `spec.containers[${i}].name`, message: 'Required value: a DNS-1123 label' });
      if (!isObj(c) || typeof c.image !== 'string' || c.image === '') causes.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
    });
  if (!old) {
    if (!isObj(obj.status)) obj.status = {};
    (obj.status as Obj).phase ??= 'Pending';
    return;
  }
  // Pod specs are immutable apart from a few fields, as in the real server.
  const mutable = (s: unknown): string => {
    if (!isObj(s)) return canonicalJson(s);
    const { activeDeadlineSeconds: _a, tolerations: _t, terminationGracePeriodSeconds: _g, ...rest } = s;
    const strip = (cs: unknown) => (Array.isArray(cs) ? cs.map((c) => (isObj(c) ? { ...c, image: undefined } : c)) : cs);
    return canonicalJson({ ...rest, containers: strip(rest.containers), initContainers: strip(rest.initContainers) });
  };
  if (!jsonEqual(spec, old.spec) && mutable(spec) !== mutable(old.spec))
    causes.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`' });
}

function validateService(obj: KubeObject, old: KubeObject | undefined, alloc: ServiceAllocator, causes: StatusCause[]): void {
  if (!isObj(obj.spec)) obj.spec = {};
  const spec = obj.spec as Obj;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  const type = spec.type;
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type as string)) causes.push({ field: 'spec.type', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(type)}` });
  const ports = spec.ports ?? [];
  if (!Array.isArray(ports)) causes.push({ field: 'spec.ports', message: 'must be a list' });
  else {
    if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') causes.push({ field: 'spec.ports', message: 'Required value' });
    ports.forEach((p: unknown, i) => {
      if (!isObj(p) || !Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535) {
        causes.push({ field: `spec.ports[${i}].port`, message: 'Invalid value: must be between 1 and 65535, inclusive' });
        return;
      }
      p.protocol ??= 'TCP';
      if (!['TCP', 'UDP', 'SCTP'].includes(p.protocol as string)) causes.push({ field: `spec.ports[${i}].protocol`, reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(p.protocol)}` });
      p.targetPort ??= p.port;
      if (ports.length > 1 && (typeof p.name !== 'string' || p.name === '')) causes.push({ field: `spec.ports[${i}].name`, message: 'Required value' });
    });
  }
  if (type === 'ExternalName') return;
  const oldSpec = old && isObj(old.spec) ? old.spec : undefined;
  if (oldSpec) {
    // clusterIP is immutable; an empty one on update means "keep".
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs;
    } else if (spec.clusterIP !== oldSpec.clusterIP) causes.push({ field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: field is immutable` });
  } else if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const ip = alloc.allocate();
    if (!ip) causes.push({ field: 'spec.clusterIP', message: 'Internal error: service IP range is full' });
    else spec.clusterIP = ip;
  } else if (spec.clusterIP !== 'None') {
    if (!alloc.inRange(spec.clusterIP as string)) causes.push({ field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: provided IP is not in the valid range` });
    else if (!alloc.claim(spec.clusterIP as string)) causes.push({ field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: provided IP is already allocated` });
  }
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '') spec.clusterIPs ??= [spec.clusterIP];
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  if ((type === 'NodePort' || type === 'LoadBalancer') && Array.isArray(ports)) {
    spec.externalTrafficPolicy ??= 'Cluster';
    const oldPorts = oldSpec && Array.isArray(oldSpec.ports) ? (oldSpec.ports as Obj[]) : [];
    ports.forEach((p: unknown, i) => {
      if (!isObj(p)) return;
      const prev = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol)?.nodePort;
      if (p.nodePort === undefined && prev !== undefined) p.nodePort = prev;
      else if (p.nodePort === undefined) p.nodePort = alloc.allocatePort();
      else if (p.nodePort !== prev && (!Number.isInteger(p.nodePort) || !alloc.claimPort(p.nodePort as number)))
        causes.push({ field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${String(p.nodePort)}: provided port is already allocated or invalid` });
    });
  }
}

/** Addresses and ports a service holds, to release when it goes away or a create fails. */
export function releaseService(obj: KubeObject, alloc: ServiceAllocator): void {
  const spec = isObj(obj.spec) ? obj.spec : {};
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None') alloc.release(spec.clusterIP);
  if (Array.isArray(spec.ports)) for (const p of spec.ports) if (isObj(p) && typeof p.nodePort === 'number') alloc.releasePort(p.nodePort);
}

function validateEndpointSlice(obj: KubeObject, causes: StatusCause[]): void {
  const at = obj.addressType;
  if (!['IPv4', 'IPv6', 'FQDN'].includes(at as string)) causes.push({ field: 'addressType', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(at)}: supported values: "FQDN", "IPv4", "IPv6"` });
  const eps = obj.endpoints ?? [];
  if (!Array.isArray(eps)) causes.push({ field: 'endpoints', message: 'must be a list' });
  else eps.forEach((e: unknown, i) => {
    if (!isObj(e) || !Array.isArray(e.addresses) || e.addresses.length === 0) causes.push({ field: `endpoints[${i}].addresses`, message: 'Required value' });
  });
}

function defaultNetworkPolicy(obj: KubeObject): void {
  if (!isObj(obj.spec)) obj.spec = {};
  const spec = obj.spec as Obj;
  spec.podSelector ??= {};
  if (spec.policyTypes === undefined) spec.policyTypes = spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Applies defaults in place and returns what is invalid (empty when the object is fine). */
export function validateObject(rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, alloc: ServiceAllocator): StatusCause[] {
  const causes: StatusCause[] = [];
  validateMeta(obj, causes);
  if (rt.custom) validateCustom(rt, obj, old, causes);
  switch (rt.kind) {
    case 'Pod':
      validatePod(obj, old, causes);
      break;
    case 'Service':
      validateService(obj, old, alloc, causes);
      break;
    case 'Namespace':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name as string };
      if (!isObj(obj.status)) obj.status = {};
      (obj.status as Obj).phase ??= 'Active';
      break;
    case 'EndpointSlice':
      validateEndpointSlice(obj, causes);
      break;
    case 'NetworkPolicy':
      defaultNetworkPolicy(obj);
      break;
  }
  return causes;
}
