// Seed 002's per-tenant variant of scheme 1 against a real Neutron (make lab OPENSTACK=ic-tenants): tenant A's router0
// with cluster az1 on transit switch `ts`, tenant B's routerB with cluster az2 on `ts-b`. The isolation matrix with
// real packets; each router learns only its own cluster's routes; connect is idempotent per tenant and never takes
// another tenant's transit switch; disconnecting tenant B leaves tenant A, Neutron's rows and ovn-ic in place.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMultiLab, type MultiLab } from '../../lab/multi-cluster.js';
import { run } from '../../lab/exec.js';
import { pingCheck } from '../../lab/report.js';
import { BIN_DIR } from '../../lab/paths.js';
import { waitFor } from '../../lab/wait.js';
import { OPENSTACK_AZ } from '../../lab/openstack/ic-az.js';
import { neutronClient } from '../../lab/openstack/neutron.js';
import { TENANT_B } from '../../lab/openstack/tenants.js';
import { tenantMatrixChecks } from '../../lab/openstack/tenant-matrix.js';

const PREFIX = 'tostn-';
/** "192.168.1." of 192.168.1.0/24: how a learned prefix of that network starts. */
const net24 = (cidr: string): string => cidr.replace(/\d+\/24$/, '');

describe('OpenStack tenants over OVN-IC, one cluster each (real Neutron, make lab OPENSTACK=ic-tenants)', function () {
  this.timeout(600_000);
  let lab: MultiLab;
  const os = () => lab.file.openstack!;
  const tenant = (name: string) => os().tenants!.find((t) => t.name === name)!;
  const nbctl = (args: string[]): Promise<string> => run('ovn-nbctl', [`--db=unix:${os().nbSocket}`, '--timeout=20', ...args]);
  const learned = async (router: string): Promise<string> => (await nbctl(['lr-route-list', router])).split('\n').filter((l) => l.includes('(learned)')).join('\n');
  const clusterLearned = async (k: number): Promise<string> => (await lab.clusters[k]!.nbctl(['--format=csv', '--data=bare', '--no-headings',
    '--columns=ip_prefix,external_ids', 'list', 'Logical_Router_Static_Route'])).split('\n').filter((l) => l.includes('ic-learned-route')).join('\n');
  const icSb = (args: string[]): Promise<string> => run('ovn-ic-sbctl', [`--db=${lab.file.interconnect.unixSockets.sb.join(',')}`, '--timeout=30', ...args]);
  const runDir = (): string => join(lab.clusters[0]!.stateDir, '..', 'os', 'ovn-ic');
  const icCli = (verb: 'connect' | 'disconnect', t: { router: string; ts: string; project: string }): Promise<string> => {
    const ip = new URL(os().neutronUrl).hostname;
    const args = verb === 'connect'
      ? ['--router', t.router, '--sb', `tcp:${ip}:6642`,
        '--ic-nb', lab.file.interconnect.icNb.join(','), '--gateway-chassis', `${OPENSTACK_AZ}-gw`]
      : [];
    return run(join(BIN_DIR, 'tessera-openstack'), ['ic', verb, '--ts', t.ts, '--az-name', OPENSTACK_AZ, '--nb', `tcp:${ip}:6641`,
      '--ic-sb', lab.file.interconnect.icSb.join(','), '--run-dir', runDir(), ...args],
      { netns: os().netns, timeoutMs: 120_000, env: { OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: os().neutronUrl, OS_PROJECT_ID: t.project } });
  };
  const B = { router: TENANT_B.router, ts: TENANT_B.ts, project: TENANT_B.project };

  before(async () => {
    const t0 = Date.now();
    lab = await startMultiLab({ prefix: PREFIX, clusters: 2, openstack: 'ic-tenants' });
    process.stderr.write(`      (per-tenant lab up in ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  });
  after(async () => {
    await lab?.stop();
  });

  it('the isolation matrix: a tenant\'s VMs and its own cluster\'s pods reach each other both ways, nothing crosses tenants', async () => {
    const checks = (await lab.check()).filter((c) => c.kind === 'openstack');
    const pods = lab.file.clusters.map((c) => c.pods.length);
    const vms = os().tenants!.map((t) => t.vms.length);
    // pod<->VM both ways for every pod and VM, pod->pod across the clusters, VM->VM across the tenants
    assert.equal(checks.length, 2 * (pods[0]! + pods[1]!) * (vms[0]! + vms[1]!) + 2 * pods[0]! * pods[1]! + 2 * vms[0]! * vms[1]!);
    assert.equal(checks.filter((c) => c.detail.startsWith('must reach')).length, 2 * (pods[0]! * vms[0]! + pods[1]! * vms[1]!));
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
  });

  it('each router learned only its own cluster\'s subnets, and each cluster only its own tenant\'s network', async () => {
    const [a, b] = [tenant('A'), tenant('B')];
    assert.match(lab.file.clusters[0]!.icStatus.message, / transit switch ts at /);
    assert.match(lab.file.clusters[1]!.icStatus.message, / transit switch ts-b at /, 'az2\'s ovn-ic-config ts-name');
    const subnets = (k: number): string[] => lab.file.clusters[k]!.nodes.map((n) => net24(n.subnet));
    const [ra, rb] = [await learned(a.routers[0]!.ovnName), await learned(b.routers[0]!.ovnName)];
    for (const s of subnets(0)) assert.ok(ra.includes(s) && !rb.includes(s), `az1 subnet ${s}x: router0 ${ra}\nrouterB ${rb}`);
    for (const s of subnets(1)) assert.ok(rb.includes(s) && !ra.includes(s), `az2 subnet ${s}x: router0 ${ra}\nrouterB ${rb}`);
    // ovn-ic copies a router port's network as written: "192.168.1.1/24" for 192.168.1.0/24.
    const [ca, cb] = [await clusterLearned(0), await clusterLearned(1)];
    const [na, nb] = [net24(a.networks[0]!.cidr), net24(b.networks[0]!.cidr)];
    assert.ok(ca.includes(na) && !ca.includes(nb), `az1 learned: ${ca}`);
    assert.ok(cb.includes(nb) && !cb.includes(na), `az2 learned: ${cb}`);
    assert.ok(!ca.includes('10.17.') && !cb.includes('10.16.'), 'the clusters learned each other\'s pods');
  });

  it('connect again changes nothing; routerB cannot take tenant A\'s transit switch', async () => {
    const ports = async (): Promise<string> => nbctl(['--bare', '--columns=_uuid,name,networks', 'list', 'Logical_Router_Port']);
    const before = await ports();
    await icCli('connect', B);
    assert.equal(await ports(), before, 'a second connect rewrote router ports');
    await assert.rejects(icCli('connect', { ...B, ts: 'ts' }), /exit code 2.*transit switch ts is attached to neutron-.*, not neutron-.*give this router its own --ts/);
    assert.equal(await ports(), before, 'the refused connect changed router ports');
  });

  it('disconnect of tenant B leaves tenant A working, Neutron\'s rows and ovn-ic in place, and withdraws B\'s routes', async () => {
    const pid = Number(readFileSync(join(runDir(), 'ovn-ic.pid'), 'utf8').trim());
    const [a, b] = [tenant('A'), tenant('B')];
    await icCli('disconnect', B);
    const lrps = await nbctl(['--bare', '--columns=name', 'list', 'Logical_Router_Port']);
    assert.doesNotMatch(lrps, new RegExp(`^${OPENSTACK_AZ}-${TENANT_B.ts}$`, 'm'));
    assert.match(lrps, new RegExp(`^${OPENSTACK_AZ}-ts$`, 'm'), 'tenant A\'s ts port went too');
    assert.equal(await learned(b.routers[0]!.ovnName), '');
    assert.notEqual(await learned(a.routers[0]!.ovnName), '', 'tenant A\'s learned routes went too');
    assert.equal((await nbctl(['get', 'NB_Global', '.', 'options:ic-route-learn'])).replace(/"/g, ''), 'true');
    process.kill(pid, 0); // ovn-ic still serves tenant A
    // Neutron's router, its network interface and its ports stay, as Neutron's API and NB say.
    const api = neutronClient({ url: os().neutronUrl, socket: os().neutronSocket }, TENANT_B.project);
    assert.equal((await api.listRouters({ name: TENANT_B.router })).length, 1);
    assert.equal((await api.listPorts({ network_id: b.networks[0]!.id })).length >= b.vms.length + 1, true);
    assert.match(await nbctl(['--bare', '--columns=networks', 'list', 'Logical_Router_Port']), new RegExp(b.networks[0]!.cidr.replace(/0\/24$/, '1/24').replace(/\./g, '\\.')));
    // IC-SB: nothing of op-az on ts-b is left for cluster az2 to learn.
    const opAz = (await icSb(['--bare', '--columns=_uuid', 'find', 'Availability_Zone', `name=${OPENSTACK_AZ}`])).trim();
    assert.match(opAz, /^[0-9a-f-]{36}$/);
    assert.equal((await icSb(['--bare', '--columns=ip_prefix', 'find', 'Route', `availability_zone=${opAz}`, `transit_switch=${TENANT_B.ts}`])).trim(), '');
    assert.notEqual((await icSb(['--bare', '--columns=ip_prefix', 'find', 'Route', `availability_zone=${opAz}`, 'transit_switch=ts'])).trim(), '', 'tenant A\'s routes were withdrawn too');
    await waitFor('az2 to forget tenant B\'s network', async () => !(await clusterLearned(1)).includes(net24(b.networks[0]!.cidr)), 30_000);
    // Packets: A still both ways; B's cluster no longer reaches B's VMs.
    const aChecks = (await tenantMatrixChecks(lab.file)).filter((c) => c.detail.startsWith('must reach') && (c.from.startsWith('A:') || c.to.startsWith('A:')));
    assert.ok(aChecks.length > 0);
    assert.deepEqual(aChecks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
    const fromB = lab.file.clusters[1]!.pods[0]!;
    assert.equal((await pingCheck(fromB, b.vms[0]!.ip, b.vms[0]!.name)).ok, false, 'az2 still reaches tenant B after disconnect');

    await icCli('connect', B);
    await waitFor('az2 -> tenant B after reconnect', async () => (await pingCheck(fromB, b.vms[0]!.ip, b.vms[0]!.name)).ok, 60_000, 500);
  });
});
