// Seed 000's scheme 2 ("共享底层 OVN") on the lab with a real neutron-server writing into the lab's own NB/SB
// (make lab OPENSTACK=shared): Neutron routers become Vpcs, the seed's net2 manifest puts pods on router0, real
// packets between pods and VMs both ways, the isolation matrix (router1's VM and the default network reach none of
// them), routers added and deleted while the watcher runs, a watcher restart, a neutron-server restart, and
// neutron-ovn-db-sync-util in log and repair mode. One lab for the whole file (about 20 s to start).
import assert from 'node:assert/strict';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { kubectlGet } from '../../lab/kube-get.js';
import { readLabFile } from '../../lab/lab-file.js';
import { waitFor } from '../../lab/wait.js';
import { pingCheck } from '../../lab/report.js';
import type { KubeObject } from '../../lab/kube.js';
import { neutronClient, startNeutronServer, stopNeutronServer } from '../../lab/openstack/neutron.js';
import { runNeutronDbSync, sharedNeutron } from '../../lab/openstack/db-sync.js';
import { formatSharedMatrix } from '../../lab/openstack/shared-checks.js';
import { externalVpcSynced, VPC_EXTERNAL_LABEL } from '../../lab/openstack/shared.js';
import type { NeutronClient } from '../../lib/neutron/client.js';

const PREFIX = 'tosh-';
type VpcObj = KubeObject & { spec?: { namespaces?: string[] }; status?: { subnets?: string[]; router?: string; standby?: boolean; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } };

describe('OpenStack shared OVN on the lab (real neutron-server, real packets)', function () {
  this.timeout(600_000);
  let lab: Lab;
  let api: NeutronClient;
  const kube = () => lab.kube;
  const os = () => lab.file.openstack!;
  const router0 = () => os().routers[0]!.ovnName;
  const vpcObj = (name: string) => kube().get<VpcObj>(`/apis/kubeovn.io/v1/vpcs/${name}`).catch(() => undefined);
  const pod = () => os().pods![0]!;
  const vm1 = () => os().vms.find((v) => v.name === 'vm1')!;
  const podReachesVm = async () => (await pingCheck(pod(), vm1().ip, 'vm1')).ok && (await pingCheck({ ...pod(), netns: vm1().netns }, pod().ip, 'pod')).ok;
  /** uuid of each row Tessera owns for Subnet net2 (its switch, router port, switch port), by table and name. */
  const net2Rows = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const t of ['Logical_Switch', 'Logical_Router_Port', 'Logical_Switch_Port']) {
      const rows = await lab.nbctl(['--bare', '--columns=_uuid,name', 'find', t, 'external_ids:"tessera.io/object"=net2', 'external_ids:"tessera.io/kind"=subnet']);
      const f = rows.split('\n').filter(Boolean);
      for (let i = 0; i + 1 < f.length; i += 2) out[`${t} ${f[i + 1]}`] = f[i]!;
    }
    return out;
  };
  const events = async (reason: string) => (await kube().list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>('/api/v1/namespaces/default/events')).items.filter((e) => e.reason === reason);

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    const t0 = Date.now();
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: false, policies: [], openstack: 'shared' });
    process.stdout.write(`      lab with Neutron up in ${Date.now() - t0} ms\n`);
    api = neutronClient({ url: os().neutronUrl, socket: os().neutronSocket });
  });
  after(async () => {
    if (process.env.KEEP_TOSH === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it("the seed's net2 on router0's synced Vpc: pods and router0's VMs reach each other; router1's VM and the default network reach none of them", async () => {
    const checks = await lab.check();
    const file = readLabFile(lab.labFilePath);
    assert.equal(file.openstack?.scheme, 'shared');
    assert.deepEqual(file.openstack?.routers.map((r) => r.name), ['router0', 'router1']);
    assert.deepEqual(file.openstack?.vms.map((v) => v.name), ['vm1', 'vm2', 'vm-b']);
    process.stdout.write(formatSharedMatrix(file, checks).replace(/^/gm, '      ') + '\n');
    for (const c of checks) assert.ok(c.ok, `${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    // 2 pods x 2 near VMs x 2 ways; vm-b against 2 pods + 2 VMs both ways; the default pod against 2 pods + 3 VMs both ways.
    assert.equal(checks.filter((c) => c.kind === 'openstack').length, 8);
    assert.equal(checks.filter((c) => c.kind === 'policy' && (c.from.startsWith('vm/') || c.to.startsWith('vm/') || c.from.startsWith('net2/') || c.to.startsWith('net2/'))).length, 8 + 10);
    assert.match(pod().ip, /^12\.0\.1\./);
  });

  it('kubectl get vpc shows each Neutron router as a Vpc with its networks; the Vpc keeps the seed spec.namespaces', async () => {
    const listing = await kubectlGet(kube(), 'vpcs');
    process.stdout.write(listing.replace(/^/gm, '      ') + '\n');
    const [n0, n1] = os().networks;
    assert.match(listing, new RegExp(`^${router0()}\\s+true\\s+\\["net2","neutron-${n0!.id}"\\]$`, 'm'));
    assert.match(listing, new RegExp(`^${os().routers[1]!.ovnName}\\s+true\\s+\\["neutron-${n1!.id}"\\]$`, 'm'));
    assert.match(listing, /^ovn-cluster\s+true\s+\["join","ovn-default"\]$/m);
    const v = await vpcObj(router0());
    assert.equal(v?.metadata.labels?.[VPC_EXTERNAL_LABEL], 'true');
    assert.deepEqual(v?.spec?.namespaces, ['net2']);
    assert.equal(v?.status?.router, router0());
  });

  it("Tessera adds only rows it owns: Neutron's router keeps its external_ids, Tessera's port on it carries owner ids", async () => {
    const ids = await lab.nbctl(['get', 'Logical_Router', router0(), 'external_ids']);
    assert.match(ids, /"neutron:router_name"=router0/);
    assert.doesNotMatch(ids, /tessera/);
    const rows = await net2Rows();
    assert.deepEqual(Object.keys(rows).sort(), [`Logical_Router_Port lrp-${router0()}-net2`, 'Logical_Switch net2', `Logical_Switch_Port net2-${router0()}`].sort());
    const mixed = await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Router_Port', 'external_ids:"tessera.io/owner"=tessera-watcher', 'external_ids:"neutron:network_name"!=""']);
    assert.equal(mixed, '');
  });

  it('deleting the synced Vpc never deletes the router: the object comes back', async () => {
    await kube().delete(`/apis/kubeovn.io/v1/vpcs/${router0()}`);
    await externalVpcSynced(kube(), router0());
    assert.match(await lab.nbctl(['get', 'Logical_Router', router0(), 'name']), new RegExp(router0()));
    await kube().patch(`/apis/kubeovn.io/v1/vpcs/${router0()}`, { spec: { namespaces: ['net2'] } }, 'merge');
    await waitFor('net2 listed again on the recreated Vpc', async () => (await vpcObj(router0()))?.status?.subnets?.includes('net2') ?? false, 20_000);
    assert.ok(await podReachesVm(), 'pod <-> vm1 still');
  });

  it('follows Neutron routers created, attached, detached and deleted while the watcher runs; a router Tessera Subnets still use keeps its Vpc with an Error', async () => {
    const r = await api.createRouter('router2');
    const name = `neutron-${r.id}`;
    await externalVpcSynced(kube(), name);
    const net = await api.createNetwork('net-c');
    const sub = await api.createSubnet({ name: 'sub-c', network_id: net.id, cidr: '192.168.30.0/24' });
    await api.addRouterInterface(r.id, sub.id);
    await waitFor(`${name} lists neutron-${net.id}`, async () => (await vpcObj(name))?.status?.subnets?.includes(`neutron-${net.id}`) ?? false, 20_000);
    await api.removeRouterInterface(r.id, sub.id);
    await waitFor(`${name} lists no network`, async () => (await vpcObj(name))?.status?.subnets?.length === 0, 20_000);
    // A Tessera Subnet on it, then Neutron deletes the router (its own rows, Tessera's port goes with the row).
    await kube().create('/apis/kubeovn.io/v1/subnets', { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'net3' }, spec: { vpc: name, cidrBlock: '12.0.3.0/24' } } as KubeObject);
    await waitFor('net3 Ready', async () => ((await kube().get<VpcObj>('/apis/kubeovn.io/v1/subnets/net3')).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'), 20_000);
    await api.deleteRouter(r.id);
    await waitFor(`${name} Error NeutronRouterDeleted`, async () => ((await vpcObj(name))?.status?.conditions ?? []).some((c) => c.type === 'Error' && c.status === 'True' && c.reason === 'NeutronRouterDeleted'), 20_000);
    assert.ok((await events('NeutronRouterDeleted')).some((e) => e.involvedObject?.name === name), 'a Warning Event on the Vpc');
    assert.equal(await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Router', `name=${name}`]), '', 'Tessera did not recreate the router');
    await kube().delete('/apis/kubeovn.io/v1/subnets/net3');
    await waitFor(`${name} removed once no Subnet names it`, async () => (await vpcObj(name)) === undefined, 30_000);
    await api.deleteNetwork(net.id);
  });

  it('a watcher restart reconciles: the same rows, no duplicates, the same Vpcs, the path still up', async () => {
    const rows = await net2Rows();
    const vpcs = (await kubectlGet(kube(), 'vpcs'));
    await lab.restartWatcher();
    await lab.nbctl(['--wait=sb', 'sync']);
    await waitFor('Vpc listing settles', async () => (await kubectlGet(kube(), 'vpcs')) === vpcs, 20_000);
    assert.deepEqual(await net2Rows(), rows);
    assert.equal((await lab.nbctl(['--bare', '--columns=name', 'list', 'Logical_Router'])).split('\n').filter((n) => n.startsWith('neutron-')).length, 2);
    assert.ok(await podReachesVm());
  });

  it("a neutron-server restart: Neutron rewrites mcast options on Tessera's switch and ports, Tessera reverts them, its port on the router stays", async () => {
    const rows = await net2Rows();
    const repaired = async () => (await events('NBDriftRepaired')).filter((e) => e.involvedObject?.name === 'net2').map((e) => e.message ?? '');
    const seen = (await repaired()).length;
    const n = sharedNeutron(lab.runDir, os().netns, os().neutronSocket);
    await stopNeutronServer(n);
    await startNeutronServer(n);
    await waitFor("Neutron's maintenance task to touch net2's switch and Tessera to restore it", async () => (await repaired()).length > seen, 60_000);
    assert.match((await repaired()).slice(seen).join('\n'), /Logical_Switch net2: other_config .*mcast_snoop/);
    assert.doesNotMatch(await lab.nbctl(['get', 'Logical_Switch', 'net2', 'other_config']), /mcast/);
    await waitFor("the pod's port options restored", async () => !(await lab.nbctl(['get', 'Logical_Switch_Port', 'net2_ubuntu', 'options'])).includes('mcast'), 20_000);
    assert.deepEqual(await net2Rows(), rows, 'same rows (same uuids): nothing deleted');
    assert.ok(await podReachesVm());
  });

  it("neutron-ovn-db-sync-util in log mode reports Tessera's port on router0 and changes nothing", async () => {
    const rows = await net2Rows();
    const before = (await events('NeutronRemovedRows')).length;
    const r = await runNeutronDbSync(sharedNeutron(lab.runDir, os().netns, os().neutronSocket), 'log');
    process.stdout.write(r.warnings.map((w) => `      ${w.slice(0, 200)}`).join('\n') + '\n');
    assert.ok(r.ok, `log mode exits 0 (${r.logFile})`);
    assert.ok(r.warnings.some((w) => w.includes(`Router Port found in OVN but not in Neutron, port_id=${router0()}-net2`)), 'it names the port');
    assert.deepEqual(await net2Rows(), rows);
    assert.equal((await events('NeutronRemovedRows')).length, before);
  });

  it("neutron-ovn-db-sync-util in repair mode deletes Tessera's port and ACLs; Tessera restores them with a Warning and the NeutronSync condition", async () => {
    const rows = await net2Rows();
    const r = await runNeutronDbSync(sharedNeutron(lab.runDir, os().netns, os().neutronSocket), 'repair');
    process.stdout.write(r.warnings.map((w) => `      ${w.slice(0, 200)}`).join('\n') + '\n');
    assert.ok(r.ok, `repair mode completes (${r.logFile})`);
    assert.ok(r.warnings.some((w) => w.includes(`Deleting the port ${router0()}-net2 from OVN NB DB`)), 'Neutron deleted the port');
    assert.ok(r.warnings.some((w) => w.includes('Removing ACLs from OVN from Logical Switch node1')), "Neutron removed the ACLs on Tessera's node switch");
    await waitFor("node1's switch ACLs restored", async () => (await lab.nbctl(['get', 'Logical_Switch', 'node1', 'acls'])) !== '[]', 20_000);
    await waitFor('net2 Subnet NeutronSync condition', async () =>
      ((await kube().get<VpcObj>('/apis/kubeovn.io/v1/subnets/net2')).status?.conditions ?? []).some((c) => c.type === 'NeutronSync' && c.reason === 'NeutronRemovedRows'), 20_000);
    const ev = (await events('NeutronRemovedRows')).filter((e) => e.involvedObject?.name === 'net2');
    assert.ok(ev.length > 0 && /Logical_Router_Port lrp-/.test(ev.at(-1)!.message ?? ''), `a Warning Event naming the port: ${ev.at(-1)?.message}`);
    const after = await net2Rows();
    assert.deepEqual(Object.keys(after).sort(), Object.keys(rows).sort(), 'every row is back');
    assert.notEqual(after[`Logical_Router_Port lrp-${router0()}-net2`], rows[`Logical_Router_Port lrp-${router0()}-net2`], 'the port is a new row');
    await waitFor('pod <-> vm1 after the repair', podReachesVm, 20_000);
  });
});
