// tessera-watcher's external Vpc sync against a real neutron-server writing into the same NB (shared OVN, seed 000
// scheme 2) and the API test double: Neutron routers appear as vpc_external Vpcs with their networks, follow
// attach/detach/delete, a deleted Vpc object comes back, and a Tessera Subnet on a Neutron router adds only its own
// rows (the router row keeps Neutron's external_ids, untouched).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { WatcherFixture, until } from '../watcher/fixture.js';
import { startOvsdbServer, spawnOut, ovsEnv, SCHEMAS, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { findResource, type KubeObject } from '../../../kube-double/resources.js';
import { addNetns, delNetns } from '../../../lab/netns.js';
import { neutronClient, startNeutron, stopNeutron, type Neutron } from '../../../lab/openstack/neutron.js';
import type { NeutronClient } from '../../../lib/neutron/client.js';

const NETNS = 'tessera-itosh';
const VPC = findResource('kubeovn.io', 'v1', 'vpcs')!;
const SUBNET = findResource('kubeovn.io', 'v1', 'subnets')!;
type Obj = KubeObject & { spec?: Record<string, unknown>; status?: { subnets?: string[]; router?: string; standby?: boolean; default?: boolean; conditions?: Array<{ type: string; status: string; reason?: string }> } };

describe('watcher: Neutron routers as external Vpcs (real neutron-server, shared NB)', function () {
  this.timeout(300_000);
  const f = new WatcherFixture();
  const dir = join(tmpdir(), 'tessera-itosh');
  let sb: OvsdbServer;
  let neutron: Neutron;
  let api: NeutronClient;
  const get = (rt: typeof VPC, name: string): Obj | undefined => {
    try {
      return f.store.get(rt, undefined, name) as Obj;
    } catch {
      return undefined;
    }
  };

  before(async () => {
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    await delNetns(NETNS);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await f.start();
    sb = await startOvsdbServer({ schema: SCHEMAS.sb });
    // What ovn-northd writes into NB_Global and Neutron reads to validate its geneve segments.
    const nbctl = (args: string[]) => spawnOut('ovn-nbctl', [`--db=${f.nbServer.unix}`, ...args], ovsEnv(f.nbServer.dir));
    await nbctl(['init']);
    await nbctl(['set', 'NB_Global', '.', 'options:max_tunid=16711680']);
    await addNetns(NETNS);
    neutron = await startNeutron({ dir: join(dir, 'neutron'), netns: NETNS, nb: f.nbServer.unix, sb: sb.unix });
    api = neutronClient(neutron);
    f.node('n1');
    f.startWatcher();
  });
  after(async () => {
    await stopNeutron(join(dir, 'neutron'));
    await delNetns(NETNS);
    await sb?.cleanup();
    await f.stop();
  });

  it('a Neutron router and its network appear as a vpc_external Vpc; detach and delete are followed', async () => {
    const r = await api.createRouter('router0');
    const name = `neutron-${r.id}`;
    const v = await until(() => get(VPC, name)?.status?.router === name && get(VPC, name), 20_000, `Vpc ${name}`);
    assert.equal(v.metadata.labels?.['ovn.kubernetes.io/vpc_external'], 'true');
    assert.deepEqual([v.status?.standby, v.status?.default, v.status?.subnets], [true, false, []]);
    const net = await api.createNetwork('net1');
    const sub = await api.createSubnet({ name: 'sub1', network_id: net.id, cidr: '12.0.0.0/24' });
    await api.addRouterInterface(r.id, sub.id);
    await until(() => JSON.stringify(get(VPC, name)?.status?.subnets) === JSON.stringify([`neutron-${net.id}`]), 20_000, 'network listed');
    await api.removeRouterInterface(r.id, sub.id);
    await until(() => get(VPC, name)?.status?.subnets?.length === 0, 20_000, 'network no longer listed');
    await api.deleteRouter(r.id);
    await until(() => get(VPC, name) === undefined, 20_000, 'Vpc removed with its router');
  });

  it("a deleted Vpc object comes back while the router exists; a Tessera Subnet on it writes only its own rows", async () => {
    const r = await api.createRouter('router1');
    const name = `neutron-${r.id}`;
    await until(() => get(VPC, name)?.status?.router, 20_000, `Vpc ${name}`);
    const before = f.nb.cache.lookup('Logical_Router', 'name', name)!;
    f.store.delete(VPC, undefined, name);
    await until(() => get(VPC, name)?.metadata.labels?.['ovn.kubernetes.io/vpc_external'] === 'true', 20_000, 'Vpc recreated');
    f.store.create(SUBNET, undefined, { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'net2' }, spec: { vpc: name, cidrBlock: '12.0.1.0/24', natOutgoing: false } });
    await until(() => get(SUBNET, 'net2')?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), 20_000, 'net2 Ready');
    const after = f.nb.cache.lookup('Logical_Router', 'name', name)!;
    assert.deepEqual(after.external_ids, before.external_ids, "the router's external_ids are Neutron's, untouched");
    assert.deepEqual([after.options, after.static_routes, after.policies, after.nat], [before.options, before.static_routes, before.policies, before.nat]);
    const lrp = f.nb.cache.lookup('Logical_Router_Port', 'name', `lrp-${name}-net2`);
    assert.ok(lrp && after.ports.includes(lrp._uuid), 'its port is on the router');
    assert.equal(lrp.external_ids['tessera.io/owner'], 'tessera-watcher');
    await until(() => JSON.stringify(get(VPC, name)?.status?.subnets) === '["net2"]', 20_000, 'Vpc lists net2');
    // Neutron's API lists no port of Tessera's on its router: the port is an NB row only.
    assert.deepEqual((await api.listPorts({ device_id: r.id })).length, 0);
  });
});
