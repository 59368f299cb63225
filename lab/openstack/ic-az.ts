// The OpenStack availability zone of `make lab OPENSTACK=ic` (seed 000, scheme 1): its own OVN (NB/SB/northd), a real
// Neutron on it, one hypervisor/gateway node, then the seed's OpenStack-side steps done by `tessera-openstack ic
// connect`, and VMs on a Neutron network behind router0. Neutron has no data plane of its own: the node's
// ovn-controller is it.
import { join } from 'node:path';
import type { NeutronClient } from '../../lib/neutron/client.js';
import { run } from '../exec.js';
import { addAddr, addNetns } from '../netns.js';
import { startCentral, type Central } from '../ovn-central.js';
import { startOvsNode, vsctl, type OvsNode } from '../ovs-node.js';
import { plugUnderlay, UNDERLAY_NIC } from '../underlay.js';
import { LAB_PROJECT, neutronClient, startNeutron, NEUTRON_PORT, type Neutron } from './neutron.js';
import { plugVm, type LabVm } from './vm.js';

export const OPENSTACK_AZ = 'op-az';
export const OPENSTACK_ROUTER = 'router0';

export interface OpenstackLabInfo {
  scheme: 'ic' | 'shared';
  az?: string;
  netns: string;
  neutronUrl: string;
  /** Unix socket that reaches the Neutron API from any netns (noauth; project below). */
  neutronSocket: string;
  project: string;
  nbSocket: string;
  routers: Array<{ name: string; id: string; ovnName: string }>;
  networks: Array<{ name: string; id: string; cidr: string; router: string }>;
  vms: LabVm[];
  /** Shared OVN: the pods of the seed's net2 Subnet on the first router's Vpc. */
  pods?: Array<{ namespace: string; name: string; node: string; netns: string; ip: string; mac: string; hostIface: string }>;
  /** The per-tenant lab (`--openstack ic-tenants`, tenants.ts): each tenant's router, transit switch and cluster. */
  tenants?: OpenstackTenant[];
}

/** One OpenStack tenant (Neutron project) and the cluster its router is interconnected with through `ts`. */
export interface OpenstackTenant {
  name: string;
  project: string;
  ts: string;
  cluster: string;
  routers: OpenstackLabInfo['routers'];
  networks: OpenstackLabInfo['networks'];
  vms: LabVm[];
}

export interface OpenstackIcAz {
  info: OpenstackLabInfo;
  central: Central;
  neutron: Neutron;
  /** The hypervisor and interconnection gateway node. */
  node: OvsNode;
}

/** Lets the lab's VMs and pods talk: the project's default security group admits ICMP and TCP from anywhere. */
export async function openDefaultSecurityGroup(api: NeutronClient): Promise<void> {
  const sg = (await api.listSecurityGroups({ name: 'default', project_id: api.projectId }))[0];
  if (!sg) throw new Error('Neutron made no default security group');
  for (const protocol of ['icmp', 'tcp']) {
    await api.createSecurityGroupRule({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol, remote_ip_prefix: '0.0.0.0/0' });
  }
}

export async function startOpenstackIcAz(o: {
  prefix: string; underlay: string; runDir: string; ip: string; nodeIp: string; icNb: string[]; icSb: string[]; binDir: string;
  log: (m: string) => void;
}): Promise<OpenstackIcAz> {
  const netns = `${o.prefix}os`;
  const dir = join(o.runDir, 'os');
  await addNetns(netns);
  await plugUnderlay(o.underlay, netns, 'os');
  await addAddr(netns, UNDERLAY_NIC, `${o.ip}/24`);
  const central = await startCentral({ dir: join(dir, 'central'), netns, ip: o.ip });
  const t0 = Date.now();
  const neutron = await startNeutron({ dir: join(dir, 'neutron'), netns, bindHost: o.ip, nb: `unix:${central.nbSocket}`, sb: `unix:${central.sbSocket}` });
  o.log(`OpenStack ${OPENSTACK_AZ}: neutron-server answering at ${neutron.url} after ${Date.now() - t0} ms`);

  const nodeNetns = `${o.prefix}os-gw`;
  const nodeName = `${OPENSTACK_AZ}-gw`;
  await addNetns(nodeNetns);
  await plugUnderlay(o.underlay, nodeNetns, 'osgw');
  const node = await startOvsNode({ name: nodeName, netns: nodeNetns, dir: join(dir, 'gw'), cidr: `${o.nodeIp}/24`, sbRemote: central.sbRemote });
  await vsctl(node, ['set', 'Open_vSwitch', '.', 'external_ids:ovn-is-interconn=true']);

  // The operator's step, through the command a real operator runs on the OpenStack side.
  const out = await run(join(o.binDir, 'tessera-openstack'), ['ic', 'connect', '--router', OPENSTACK_ROUTER, '--az-name', OPENSTACK_AZ, '--nb', central.nbRemote,
    '--sb', central.sbRemote, '--ic-nb', o.icNb.join(','), '--ic-sb', o.icSb.join(','), '--gateway-chassis', nodeName,
    '--run-dir', join(dir, 'ovn-ic')],
  { netns, timeoutMs: 120_000, env: { OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: `http://${o.ip}:${NEUTRON_PORT}`, OS_PROJECT_ID: LAB_PROJECT } });
  for (const l of out.split('\n')) o.log(`${OPENSTACK_AZ}: ${l}`);

  const api = neutronClient(neutron);
  const router = (await api.listRouters({ name: OPENSTACK_ROUTER }))[0];
  if (!router) throw new Error(`${OPENSTACK_ROUTER} missing after ic connect`);
  const net = await api.createNetwork('net1');
  // Neutron makes the project's default security group on its first network.
  await openDefaultSecurityGroup(api);
  const sub = await api.createSubnet({ name: 'sub1', network_id: net.id, cidr: '192.168.1.0/24' });
  await api.addRouterInterface(router.id, sub.id);
  const vms: LabVm[] = [];
  for (const name of ['vm1', 'vm2']) {
    const port = await api.createPort({ name, network_id: net.id });
    vms.push(await plugVm({ name, netns: `${o.prefix}os-${name}`, node, port, prefixLen: 24, gateway: sub.gateway_ip, runDir: dir }));
  }
  o.log(`${OPENSTACK_AZ}: ${vms.map((v) => `${v.name} ${v.ip}`).join(', ')} on net1 192.168.1.0/24 behind ${OPENSTACK_ROUTER}`);
  return {
    central, neutron, node,
    info: {
      scheme: 'ic', az: OPENSTACK_AZ, netns, neutronUrl: neutron.url, neutronSocket: neutron.socket, project: LAB_PROJECT,
      nbSocket: central.nbSocket,
      routers: [{ name: OPENSTACK_ROUTER, id: router.id, ovnName: `neutron-${router.id}` }],
      networks: [{ name: 'net1', id: net.id, cidr: sub.cidr, router: router.id }],
      vms,
    },
  };
}
