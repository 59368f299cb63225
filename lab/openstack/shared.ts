// `make lab OPENSTACK=shared` (seed 000, scheme 2, "共享底层 OVN"): a real neutron-server whose ovn_nb_connection and
// ovn_sb_connection point at the lab's own NB/SB, as the seed's ml2_conf.ini does. Two Neutron routers with a
// network each, VMs on the lab nodes' br-int (their ovn-controller is Neutron's data plane), then the seed's net2
// manifest: a Tessera Subnet on router0's Vpc (synced by the watcher) with pods in it. The checks: pods and router0's
// VMs reach each other; router1's VM reaches neither them nor is reached; the default network reaches none of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../paths.js';
import { addAddr, addNetns } from '../netns.js';
import { plugUnderlay, UNDERLAY_NIC } from '../underlay.js';
import { need, type LabContext, type LabStep } from '../lab-context.js';
import type { LabFile } from '../lab-file.js';
import type { KubeObject, UnixKubeClient } from '../kube.js';
import { run } from '../exec.js';
import { waitFor } from '../wait.js';
import { bringUpPod, type LabPod } from '../pod-lifecycle.js';
import { subnetReady } from '../vpc.js';
import type { TlsOptions } from '../../lib/ovsdb/remote.js';
import type { NeutronClient } from '../../lib/neutron/client.js';
import { LAB_PROJECT, neutronClient, startNeutron } from './neutron.js';
import { plugVm, type LabVm } from './vm.js';
import type { OpenstackLabInfo } from './ic-az.js';
import { sharedChecks } from './shared-checks.js';

/** Router A carries the seed's network (the pod Subnet 12.0.1.0/24 joins it); router B is another tenant's VPC. */
export const SHARED_LAB = {
  routers: [
    { name: 'router0', network: 'net1', subnet: 'sub1', cidr: '12.0.0.0/24', vms: ['vm1', 'vm2'] },
    { name: 'router1', network: 'net-b', subnet: 'sub-b', cidr: '192.168.20.0/24', vms: ['vm-b'] },
  ],
  namespace: 'net2',
  subnet: 'net2',
  cidrBlock: '12.0.1.0/24',
} as const;

export const VPC_EXTERNAL_LABEL = 'ovn.kubernetes.io/vpc_external';

/** Neutron's OVSDB client certificate, signed by the lab's CA like every other OVSDB client's. */
async function neutronTls(pkiDir: string): Promise<TlsOptions> {
  const base = [`--dir=${join(pkiDir, 'ca')}`, `--log=${join(pkiDir, 'ovs-pki.log')}`];
  const tls = { key: join(pkiDir, 'neutron-privkey.pem'), cert: join(pkiDir, 'neutron-cert.pem'), ca: join(pkiDir, 'ca', 'switchca', 'cacert.pem') };
  await run('test', ['-f', tls.cert]).catch(() => run('ovs-pki', [...base, '--force', 'req+sign', 'neutron', 'switch'], { cwd: pkiDir, timeoutMs: 60_000 }));
  return tls;
}

/** The project's default security group admits ICMP and TCP, as the scheme-1 lab does. */
async function openSecurityGroup(api: NeutronClient): Promise<void> {
  const sg = (await api.listSecurityGroups({ name: 'default', project_id: api.projectId }))[0];
  if (!sg) throw new Error('Neutron made no default security group');
  for (const protocol of ['icmp', 'tcp']) {
    await api.createSecurityGroupRule({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol, remote_ip_prefix: '0.0.0.0/0' });
  }
}

/** Waits until the watcher has synced a Neutron router into a Vpc of the same name. */
export async function externalVpcSynced(kube: UnixKubeClient, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`Vpc ${name} synced from Neutron`, async () => {
    const v = await kube.get<KubeObject & { status?: { router?: string } }>(`/apis/kubeovn.io/v1/vpcs/${name}`).catch(() => undefined);
    return v?.metadata.labels?.[VPC_EXTERNAL_LABEL] === 'true' && v.status?.router === name;
  }, timeoutMs);
}

/** Neutron's routers, networks and VMs, on the lab's own OVN. */
async function buildOpenstack(c: LabContext): Promise<OpenstackLabInfo> {
  const central = need(c.central, 'OVN central');
  const netns = `${c.prefix}os`;
  const dir = join(c.runDir, 'os');
  await addNetns(netns);
  await plugUnderlay(c.underlay.netns, netns, c.net.vethTag ? `${c.net.vethTag}-os` : 'os');
  await addAddr(netns, UNDERLAY_NIC, `${c.underlay.cidr.replace(/\.0\/\d+$/, '.200')}/${c.plen}`);
  const tls = c.pkiDir ? await neutronTls(c.pkiDir) : undefined;
  const t0 = Date.now();
  const neutron = await startNeutron({ dir: join(dir, 'neutron'), netns, nb: central.nbRemote, sb: central.sbRemote, tls });
  c.log(`OpenStack (shared OVN): neutron-server on ${central.nbRemote} / ${central.sbRemote} answering after ${Date.now() - t0} ms`);
  const api = neutronClient(neutron);
  const info: OpenstackLabInfo = { scheme: 'shared', netns, neutronUrl: neutron.url, neutronSocket: neutron.socket, project: LAB_PROJECT,
    nbSocket: central.nbSocket, routers: [], networks: [], vms: [] };
  for (const [ri, r] of SHARED_LAB.routers.entries()) {
    const router = await api.createRouter(r.name);
    const net = await api.createNetwork(r.network);
    if (ri === 0) await openSecurityGroup(api); // Neutron makes the project's default group with its first network
    const sub = await api.createSubnet({ name: r.subnet, network_id: net.id, cidr: r.cidr });
    await api.addRouterInterface(router.id, sub.id);
    info.routers.push({ name: r.name, id: router.id, ovnName: `neutron-${router.id}` });
    info.networks.push({ name: r.network, id: net.id, cidr: sub.cidr, router: router.id });
    for (const [i, vm] of r.vms.entries()) {
      const port = await api.createPort({ name: vm, network_id: net.id });
      const node = c.nodes[i % c.nodes.length]!;
      info.vms.push(await plugVm({ name: vm, netns: `${c.prefix}os-${vm}`, node, port, prefixLen: Number(r.cidr.split('/')[1]), gateway: sub.gateway_ip, runDir: dir }));
    }
  }
  c.log(`OpenStack: ${info.routers.map((r, i) => `${r.name} (${info.networks[i]?.cidr}: ${info.vms.filter((v) => v.network === info.networks[i]?.id).map((v) => `${v.name} ${v.ip}`).join(', ')})`).join('; ')}`);
  return info;
}

/** The seed's net2 manifest (seed 000, verbatim), with the seed's router uuid standing for router0's. */
export const SEED_NET2 = join(REPO_ROOT, 'lab', 'openstack', 'seed-net2.yaml');
const SEED_VPC = 'neutron-22040ed5-0598-4f77-bffd-e7fd4db47e93';

/** The seed's documents, as `kubectl apply -f` would send them for Neutron router `vpc`. */
export function seedDocs(vpc: string): KubeObject[] {
  return (yaml.loadAll(readFileSync(SEED_NET2, 'utf8').replaceAll(SEED_VPC, vpc)) as KubeObject[]);
}

/**
 * The seed's net2 manifest against router0's synced Vpc, as `kubectl apply -f` does it: the Namespace and Subnet
 * created, the Vpc (a dump with server-set metadata) applied over the synced object as a patch, the Pod run by
 * the lab's kubelet on the first node, and one more net2 pod on every other node.
 */
async function applySeed(c: LabContext, vpc: string): Promise<LabPod[]> {
  const kube = need(c.kube, 'the Kubernetes API');
  await externalVpcSynced(kube, vpc);
  const docs = seedDocs(vpc);
  const pod = docs.find((d) => d.kind === 'Pod');
  for (const d of docs) {
    if (d.kind === 'Namespace') await kube.create('/api/v1/namespaces', d);
    if (d.kind === 'Subnet') await kube.create('/apis/kubeovn.io/v1/subnets', d);
    if (d.kind === 'Vpc') {
      const { labels, annotations } = d.metadata;
      await kube.patch(`/apis/kubeovn.io/v1/vpcs/${vpc}`, { metadata: { labels, annotations }, spec: (d as KubeObject & { spec?: unknown }).spec }, 'merge');
    }
  }
  await subnetReady({ kube }, SHARED_LAB.subnet);
  const pods: LabPod[] = [];
  for (const [i, n] of c.nodeNames.entries()) {
    pods.push(await bringUpPod(c, { namespace: SHARED_LAB.namespace, name: i === 0 ? String(pod?.metadata.name ?? 'ubuntu') : `ubuntu-${i + 1}`, node: n }));
  }
  c.log(`seed net2: Subnet ${SHARED_LAB.cidrBlock} on Vpc ${vpc}: ${pods.map((p) => `${p.name} ${p.ip} on ${p.node}`).join(', ')}`);
  return pods;
}

/** make lab OPENSTACK=shared (LabOptions.openstack 'shared'). */
export const openstackSharedStep: LabStep = {
  name: 'OpenStack (shared OVN)',
  async run(c: LabContext): Promise<void> {
    if (c.openstack !== 'shared') return;
    const file = need(c.file, 'the lab description');
    const info = await buildOpenstack(c);
    info.pods = await applySeed(c, info.routers[0]!.ovnName);
    file.openstack = info;
  },
  check: async (file: LabFile) => (file.openstack?.scheme === 'shared' ? sharedChecks(file) : []),
};

export type { LabVm };
