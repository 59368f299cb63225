// What an OpenStack operator does in Keystone for Neutron, through the v3 API as the admin bootstrapped it: the
// network service and its endpoints, a service user for neutron-server, a user and project for Tessera, revocation.
import { identityV3Url, KeystoneSession, keystoneRequest } from '../../lib/neutron/keystone.js';
import type { Keystone } from './keystone.js';

export interface KeystoneAdmin {
  /** A v3 call as the admin; throws on an error status. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Record<string, unknown> | undefined>;
}

export function keystoneAdmin(k: Keystone): KeystoneAdmin {
  const session = new KeystoneSession({
    authUrl: k.url, username: 'admin', password: k.adminPassword, userDomainName: 'Default',
    project: { name: 'admin', domainName: 'Default' }, interface: 'public', socketPath: k.socket,
  });
  return {
    async call(method, path, body, headers = {}) {
      const { token } = await session.current();
      const res = await keystoneRequest(new URL(path, identityV3Url(k.url)), method, { 'X-Auth-Token': token, ...headers }, body, { socketPath: k.socket });
      if (res.status >= 400) throw new Error(`Keystone ${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
      return res.text === '' ? undefined : (JSON.parse(res.text) as Record<string, unknown>);
    },
  };
}

const idOf = (r: Record<string, unknown> | undefined, key: string): string => {
  const id = (r?.[key] as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') throw new Error(`Keystone: no ${key}.id in the answer`);
  return id;
};

/** Registers Neutron as service type `network` with public and internal endpoints in the lab's region. */
export async function registerNeutron(a: KeystoneAdmin, k: Keystone, neutronUrl: string): Promise<void> {
  const service = idOf(await a.call('POST', 'services', { service: { type: 'network', name: 'neutron', enabled: true } }), 'service');
  for (const iface of ['public', 'internal']) {
    await a.call('POST', 'endpoints', { endpoint: { service_id: service, interface: iface, url: neutronUrl, region_id: k.region, enabled: true } });
  }
}

/** The `service` project (once) and project `project` with user `name` holding `role` in it; returns the project id. */
export async function addUser(a: KeystoneAdmin, u: { name: string; password: string; project: string; role: string }): Promise<string> {
  const found = (await a.call('GET', `projects?name=${encodeURIComponent(u.project)}`))?.['projects'] as { id: string }[] | undefined;
  const project = found?.[0]?.id ?? idOf(await a.call('POST', 'projects', { project: { name: u.project, domain_id: 'default', enabled: true } }), 'project');
  const user = idOf(await a.call('POST', 'users', { user: { name: u.name, password: u.password, domain_id: 'default', default_project_id: project, enabled: true } }), 'user');
  const roles = (await a.call('GET', `roles?name=${encodeURIComponent(u.role)}`))?.['roles'] as { id: string }[] | undefined;
  const role = roles?.[0]?.id;
  if (!role) throw new Error(`Keystone has no role ${u.role}`);
  await a.call('PUT', `projects/${project}/users/${user}/roles/${role}`);
  return project;
}

/** Revokes a token (DELETE /v3/auth/tokens), as `openstack token revoke` does. */
export async function revokeToken(a: KeystoneAdmin, token: string): Promise<void> {
  await a.call('DELETE', 'auth/tokens', undefined, { 'X-Subject-Token': token });
}
