// A small typed client for Neutron's v2.0 REST API: what the `openstack` CLI does for routers, networks, subnets,
// ports, trunks and security groups. Plain node:http(s), so it also speaks over a unix socket (the lab reaches a
// Neutron inside its netns through one).
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type {
  NeutronErrorBody, NeutronNetwork, NeutronPort, NeutronRouter, NeutronSecurityGroup, NeutronSecurityGroupRule,
  NeutronSubnet, NeutronTrunk, TrunkSubport,
} from './types.js';

/** A Keystone session (lib/neutron/keystone.ts): a valid token, its project, and Neutron's catalog endpoint. */
export interface TokenSource {
  current(): Promise<{ token: string; projectId: string }>;
  /** Neutron refused this token: the next current() must not return it. */
  invalidate(token: string): void;
  endpoint(): Promise<string>;
}

/**
 * How requests authenticate: noauth Neutron takes the project from a header; `token` sends a fixed token; `keystone`
 * sends the session's token and, when Neutron answers 401, renews it and retries once.
 */
export type NeutronAuth =
  | { kind: 'noauth'; projectId: string }
  | { kind: 'token'; projectId: string; token: () => Promise<string> }
  | { kind: 'keystone'; session: TokenSource };

export interface NeutronClientOptions {
  /** Base URL, e.g. http://192.168.77.3:9696 (the client appends /v2.0). Empty with `keystone` auth: the catalog's. */
  url: string;
  /** Connect through this unix socket instead of the URL's host and port. */
  socketPath?: string;
  auth: NeutronAuth;
  timeoutMs?: number;
  /** PEM CA bundle for an https Neutron. */
  caCert?: string;
}

/** Neutron answered with an error status: `type` is Neutron's error type (NotFound, OverQuota, PortInUse, …). */
export class NeutronApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
    this.name = 'NeutronApiError';
  }
}

/** Neutron could not be reached or did not answer in time. */
export class NeutronUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeutronUnreachableError';
  }
}

type Query = Record<string, string | undefined>;

export class NeutronClient {
  private base?: URL;
  private keystoneProject = '';

  constructor(private readonly o: NeutronClientOptions) {
    if (o.url) this.base = baseUrl(o.url);
  }

  /** The project requests act in; with `keystone` auth, the token's (known after the first request). */
  get projectId(): string {
    return this.o.auth.kind === 'keystone' ? this.keystoneProject : this.o.auth.projectId;
  }

  listRouters = (q: Query = {}) => this.list<NeutronRouter>('routers', q);
  getRouter = (id: string) => this.get<NeutronRouter>('router', `routers/${id}`);
  createRouter = (name: string) => this.create<NeutronRouter>('router', 'routers', { name });
  deleteRouter = (id: string) => this.remove(`routers/${id}`);
  addRouterInterface = (routerId: string, subnetId: string) =>
    this.call('PUT', `routers/${routerId}/add_router_interface`, { subnet_id: subnetId });
  removeRouterInterface = (routerId: string, subnetId: string) =>
    this.call('PUT', `routers/${routerId}/remove_router_interface`, { subnet_id: subnetId });

  listNetworks = (q: Query = {}) => this.list<NeutronNetwork>('networks', q);
  createNetwork = (name: string) => this.create<NeutronNetwork>('network', 'networks', { name });
  deleteNetwork = (id: string) => this.remove(`networks/${id}`);

  getNetwork = (id: string) => this.get<NeutronNetwork>('network', `networks/${id}`);
  listSubnets = (q: Query = {}) => this.list<NeutronSubnet>('subnets', q);
  getSubnet = (id: string) => this.get<NeutronSubnet>('subnet', `subnets/${id}`);
  createSubnet = (s: { name: string; network_id: string; cidr: string; gateway_ip?: string }) =>
    this.create<NeutronSubnet>('subnet', 'subnets', { ip_version: 4, ...s });

  listPorts = (q: Query = {}) => this.list<NeutronPort>('ports', q);
  getPort = (id: string) => this.get<NeutronPort>('port', `ports/${id}`);
  createPort = (p: { name: string; network_id: string; fixed_ips?: { subnet_id: string; ip_address?: string }[]; security_groups?: string[]; device_owner?: string; device_id?: string; description?: string; mac_address?: string; 'binding:host_id'?: string }) =>
    this.create<NeutronPort>('port', 'ports', p);
  updatePort = (id: string, p: Partial<Pick<NeutronPort, 'name' | 'security_groups' | 'device_owner' | 'device_id' | 'binding:host_id'>>) =>
    this.update<NeutronPort>('port', `ports/${id}`, p);
  deletePort = (id: string) => this.remove(`ports/${id}`);
  /** Neutron's tag extension: tags mark what Tessera created, so it can find its ports again after a restart. */
  addPortTag = (id: string, tag: string) => this.call('PUT', `ports/${id}/tags/${encodeURIComponent(tag)}`);
  /** Replaces all the port's tags (Neutron ignores `tags` in a port POST, so they go on right after). */
  setPortTags = (id: string, tags: string[]) => this.call('PUT', `ports/${id}/tags`, { tags });

  listTrunks = (q: Query = {}) => this.list<NeutronTrunk>('trunks', q);
  getTrunk = (id: string) => this.get<NeutronTrunk>('trunk', `trunks/${id}`);
  createTrunk = (name: string, portId: string) => this.create<NeutronTrunk>('trunk', 'trunks', { name, port_id: portId });
  deleteTrunk = (id: string) => this.remove(`trunks/${id}`);
  addSubports = (trunkId: string, subs: TrunkSubport[]) => this.call('PUT', `trunks/${trunkId}/add_subports`, { sub_ports: subs });
  removeSubports = (trunkId: string, portIds: string[]) =>
    this.call('PUT', `trunks/${trunkId}/remove_subports`, { sub_ports: portIds.map((port_id) => ({ port_id })) });

  listSecurityGroups = (q: Query = {}) => this.list<NeutronSecurityGroup>('security_groups', q, 'security-groups');
  createSecurityGroup = (name: string) => this.create<NeutronSecurityGroup>('security_group', 'security-groups', { name });
  createSecurityGroupRule = (r: Omit<NeutronSecurityGroupRule, 'id' | 'port_range_min' | 'port_range_max' | 'remote_ip_prefix' | 'protocol'> & Partial<NeutronSecurityGroupRule>) =>
    this.create<NeutronSecurityGroupRule>('security_group_rule', 'security-group-rules', r);
  deleteSecurityGroupRule = (id: string) => this.remove(`security-group-rules/${id}`);

  /** Neutron's quota API (admin in a real cloud; noauth lets the lab set its own project's). */
  setQuota = (projectId: string, quota: Record<string, number>) => this.call('PUT', `quotas/${projectId}`, { quota });

  private async list<T>(plural: string, q: Query, path = plural): Promise<T[]> {
    const params = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
    const body = await this.call('GET', params.size ? `${path}?${params}` : path);
    const items = (body as Record<string, unknown> | undefined)?.[plural];
    if (!Array.isArray(items)) throw new NeutronApiError(200, 'BadResponse', `GET ${path}: no "${plural}" list in the answer`);
    return items as T[];
  }

  private async get<T>(key: string, path: string): Promise<T> {
    return this.unwrap<T>(key, 'GET', path, await this.call('GET', path));
  }

  private async create<T>(key: string, path: string, fields: object): Promise<T> {
    // A Keystone token carries its project: Neutron takes it from there, as the openstack CLI relies on.
    const project = this.o.auth.kind === 'keystone' ? {} : { project_id: this.projectId };
    const body = { [key]: { ...fields, ...project } };
    return this.unwrap<T>(key, 'POST', path, await this.call('POST', path, body));
  }

  private async update<T>(key: string, path: string, fields: object): Promise<T> {
    return this.unwrap<T>(key, 'PUT', path, await this.call('PUT', path, { [key]: fields }));
  }

  /** DELETE that treats "already gone" as done, so cleanup can be retried. */
  private async remove(path: string): Promise<void> {
    try {
      await this.call('DELETE', path);
    } catch (e) {
      if (!(e instanceof NeutronApiError && e.status === 404)) throw e;
    }
  }

  private unwrap<T>(key: string, method: string, path: string, body: unknown): T {
    const v = (body as Record<string, unknown> | undefined)?.[key];
    if (typeof v !== 'object' || v === null) throw new NeutronApiError(200, 'BadResponse', `${method} ${path}: no "${key}" in the answer`);
    return v as T;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let { status, text, token } = await this.attempt(method, path, payload);
    if (status === 401 && this.o.auth.kind === 'keystone' && token !== undefined) {
      // Revoked, or expired early by Keystone's clock: one new token, one retry, never a loop.
      this.o.auth.session.invalidate(token);
      ({ status, text } = await this.attempt(method, path, payload));
    }
    if (status >= 400) throw apiError(method, path, status, text);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  private async attempt(method: string, path: string, payload?: string): Promise<{ status: number; text: string; token?: string }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let token: string | undefined;
    const a = this.o.auth;
    if (a.kind === 'keystone') {
      const cur = await a.session.current();
      ({ token } = cur);
      this.keystoneProject = cur.projectId;
      this.base ??= baseUrl(await a.session.endpoint());
    } else {
      headers['X-Project-Id'] = a.projectId;
      if (a.kind === 'token') token = await a.token();
    }
    if (token !== undefined) headers['X-Auth-Token'] = token;
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (!this.base) throw new NeutronUnreachableError('no Neutron URL: set OS_ENDPOINT or use Keystone auth');
    return { ...(await this.send(method, new URL(path, this.base), headers, payload)), token };
  }

  private send(method: string, url: URL, headers: Record<string, string>, payload?: string): Promise<{ status: number; text: string }> {
    const opts: RequestOptions & { ca?: string } = { method, headers, timeout: this.o.timeoutMs ?? 30_000 };
    if (this.o.socketPath) opts.socketPath = this.o.socketPath;
    if (this.o.caCert) opts.ca = this.o.caCert;
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts);
    return new Promise((resolve, reject) => {
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeout} ms`)));
      req.on('error', (e) => reject(new NeutronUnreachableError(`${method} ${url.pathname}: ${e.message}`)));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(new NeutronUnreachableError(`${method} ${url.pathname}: ${e.message}`)));
      });
      req.end(payload);
    });
  }
}

/** Neutron's API root; a catalog URL may already end in /v2.0. */
const baseUrl = (url: string): URL => new URL(url.replace(/\/+$/, '').replace(/\/v2\.0$/, '') + '/v2.0/');

function apiError(method: string, path: string, status: number, text: string): NeutronApiError {
  let type = `HTTP${status}`;
  let message = text.slice(0, 300);
  try {
    const e = (JSON.parse(text) as NeutronErrorBody).NeutronError;
    if (e?.type) type = e.type;
    if (e?.message) message = e.message;
  } catch {
    /* not JSON: keep the raw text */
  }
  return new NeutronApiError(status, type, `${method} ${path}: ${status} ${type}: ${message}`);
}
