// `make lab OPENSTACK=ic-tenants`: seed 002's per-tenant variant of scheme 1 ("组网方式二"). The OpenStack AZ holds
// two tenants (Neutron projects), each with its own router interconnected with its own Kubernetes cluster through
// its own transit switch: tenant A's router0 with cluster az1 on `ts`, tenant B's routerB with cluster az2 on `ts-b`
// (az2's ovn-ic-config carries `ts-name: ts-b`). ovn-ic advertises and learns routes per router on the transit
// switches that router is attached to, so each tenant and its cluster see only each other.
import { join } from 'node:path';
import { run } from '../exec.js';
import { NEUTRON_PORT, neutronClient } from './neutron.js';
import { plugVm, type LabVm } from './vm.js';
import { openDefaultSecurityGroup, OPENSTACK_AZ, type OpenstackIcAz, type OpenstackTenant } from './ic-az.js';

/** Tenant B: its project, router, transit switch, network and VMs; cluster k = 1 (az2) is its cluster. */
export const TENANT_B = { name: 'B', project: 'tenant-b', router: 'routerB', ts: 'ts-b', network: 'net-b', cidr: '192.168.2.0/24', vms: ['vm-b1', 'vm-b2'] } as const;

/** What the tenants lab adds to cluster k's seed ovn-ic-config: az2 joins tenant B's transit switch. */
export const tenantIcConfig = (k: number): Record<string, string> => (k === 1 ? { 'ts-name': TENANT_B.ts } : {});

/**
 * Tenant B in an OpenStack AZ that `startOpenstackIcAz` made with tenant A (router0 on `ts`): routerB joined to ts-b by
 * `tessera-openstack ic connect --router routerB --ts ts-b`, net-b behind it and two VMs. Records both tenants.
 */
export async function addTenantB(os: OpenstackIcAz, o: { prefix: string; runDir: string; icNb: string[]; icSb: string[]; binDir: string; log: (m: string) => void }): Promise<void> {
  const ip = new URL(os.info.neutronUrl).hostname;
  const out = await run(join(o.binDir, 'tessera-openstack'), ['ic', 'connect', '--router', TENANT_B.router, '--ts', TENANT_B.ts, '--az-name', OPENSTACK_AZ,
    '--nb', os.central.nbRemote, '--sb', os.central.sbRemote, '--ic-nb', o.icNb.join(','), '--ic-sb', o.icSb.join(','),
    '--gateway-chassis', os.node.name, '--run-dir', join(o.runDir, 'os', 'ovn-ic')],
  { netns: os.info.netns, timeoutMs: 120_000, env: { OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: `http://${ip}:${NEUTRON_PORT}`, OS_PROJECT_ID: TENANT_B.project } });
  for (const l of out.split('\n')) o.log(`${OPENSTACK_AZ} tenant ${TENANT_B.name}: ${l}`);

  const api = neutronClient(os.neutron, TENANT_B.project);
  const router = (await api.listRouters({ name: TENANT_B.router }))[0];
  if (!router) throw new Error(`${TENANT_B.router} missing after ic connect`);
  const net = await api.createNetwork(TENANT_B.network);
  await openDefaultSecurityGroup(api);
  const sub = await api.createSubnet({ name: `${TENANT_B.network}-sub`, network_id: net.id, cidr: TENANT_B.cidr });
  await api.addRouterInterface(router.id, sub.id);
  const vms: LabVm[] = [];
  for (const name of TENANT_B.vms) {
    const port = await api.createPort({ name, network_id: net.id });
    vms.push(await plugVm({ name, netns: `${o.prefix}os-${name}`, node: os.node, port, prefixLen: 24, gateway: sub.gateway_ip, runDir: join(o.runDir, 'os') }));
  }
  o.log(`${OPENSTACK_AZ} tenant ${TENANT_B.name}: ${vms.map((v) => `${v.name} ${v.ip}`).join(', ')} on ${TENANT_B.network} ${TENANT_B.cidr} behind ${TENANT_B.router}`);

  const info = os.info;
  const a = info.routers[0]!;
  const tenantA: OpenstackTenant = { name: 'A', project: info.project, ts: 'ts', cluster: 'az1', routers: [a], networks: [...info.networks],
    vms: [...info.vms] };
  const tenantB: OpenstackTenant = { name: TENANT_B.name, project: TENANT_B.project, ts: TENANT_B.ts, cluster: 'az2',
    routers: [{ name: TENANT_B.router, id: router.id, ovnName: `neutron-${router.id}` }],
    networks: [{ name: TENANT_B.network, id: net.id, cidr: sub.cidr, router: router.id }], vms };
  info.routers.push(...tenantB.routers);
  info.networks.push(...tenantB.networks);
  info.vms.push(...vms);
  info.tenants = [tenantA, tenantB];
}
