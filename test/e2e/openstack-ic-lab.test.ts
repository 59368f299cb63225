// Scheme 1 of seed 000 against a real Neutron: an OpenStack AZ (neutron-server on its own OVN) joined to a Tessera
// cluster through OVN-IC by `tessera-openstack ic connect`. Pods and VMs reach each other both ways; router0 shows
// the cluster's CIDR as learned; connect is idempotent; disconnect removes only what connect added.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMultiLab, type MultiLab } from '../../lab/multi-cluster.js';
import { run } from '../../lab/exec.js';
import { pingCheck } from '../../lab/report.js';
import { BIN_DIR } from '../../lab/paths.js';
import { waitFor } from '../../lab/wait.js';
import { OPENSTACK_AZ } from '../../lab/openstack/ic-az.js';

const PREFIX = 'tosic-';

/** An openrc-style file for the lab's noauth Neutron, as an operator would pass with --credentials-file. */
function credentialsFile(dir: string, url: string, project: string): string {
  const file = join(dir, 'openrc');
  writeFileSync(file, `# lab Neutron (noauth)\nOS_AUTH_TYPE=noauth\nexport OS_ENDPOINT="${url}"\nOS_PROJECT_ID='${project}'\n`, { mode: 0o600 });
  return file;
}

describe('OpenStack over OVN-IC (real Neutron, make lab OPENSTACK=ic)', function () {
  this.timeout(600_000);
  let lab: MultiLab;
  const nbctl = (args: string[]): Promise<string> => run('ovn-nbctl', [`--db=unix:${lab.file.openstack!.nbSocket}`, '--timeout=20', ...args]);
  const routerName = (): string => lab.file.openstack!.routers[0]!.ovnName;
  const icCli = (verb: 'connect' | 'disconnect'): Promise<string> => {
    const os = lab.file.openstack!;
    const ip = new URL(os.neutronUrl).hostname;
    const args = verb === 'connect'
      ? ['--credentials-file', credentialsFile(join(lab.clusters[0]!.stateDir, '..', 'os'), os.neutronUrl, os.project), '--router', 'router0', '--sb', `tcp:${ip}:6642`,
        '--ic-nb', lab.file.interconnect.icNb.join(','), '--ic-sb', lab.file.interconnect.icSb.join(','), '--gateway-chassis', `${OPENSTACK_AZ}-gw`]
      : [];
    return run(join(BIN_DIR, 'tessera-openstack'), ['ic', verb, '--az-name', OPENSTACK_AZ, '--nb', `tcp:${ip}:6641`,
      '--run-dir', join(lab.clusters[0]!.stateDir, '..', 'os', 'ovn-ic'), ...args], { netns: os.netns, timeoutMs: 120_000 });
  };

  before(async () => {
    lab = await startMultiLab({ prefix: PREFIX, clusters: 1, openstack: 'ic' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('pods and VMs reach each other both ways, with ping and TCP', async () => {
    const checks = (await lab.check()).filter((c) => c.kind === 'openstack');
    assert.equal(checks.length, lab.file.clusters[0]!.pods.length * lab.file.openstack!.vms.length * 2);
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
  });

  it('router0 learned the cluster\'s pod subnets through the transit switch, as the seed shows', async () => {
    const routes = await nbctl(['lr-route-list', routerName()]);
    for (const n of lab.file.clusters[0]!.nodes) {
      assert.match(routes, new RegExp(`${n.subnet.replace(/[./]/g, '\\$&')}\\s+169\\.254\\.100\\.\\d+ dst-ip.*\\(learned\\)`), `node ${n.name}'s subnet`);
    }
  });

  it('connect again changes nothing; disconnect removes only its rows; connect restores the path', async () => {
    const ports = async (): Promise<string> => nbctl(['--bare', '--columns=_uuid,name', 'list', 'Logical_Router_Port']);
    const before = await ports();
    await icCli('connect');
    assert.equal(await ports(), before, 'a second connect rewrote router ports');

    await icCli('disconnect');
    assert.doesNotMatch(await ports(), new RegExp(`${OPENSTACK_AZ}-ts`));
    assert.doesNotMatch(await nbctl(['lr-route-list', routerName()]), /learned/);
    // Neutron's router, its net1 interface and the VMs' ports stay.
    assert.match(await nbctl(['--bare', '--columns=networks', 'list', 'Logical_Router_Port']), /192\.168\.1\.1\/24/);
    const from = lab.file.clusters[0]!.pods[0]!;
    const vm = lab.file.openstack!.vms[0]!;
    assert.equal((await pingCheck(from, vm.ip, vm.name)).ok, false, 'the pod still reaches the VM after disconnect');

    await icCli('connect');
    await waitFor('pod -> VM after reconnect', async () => (await pingCheck(from, vm.ip, vm.name)).ok, 60_000, 500);
  });
});
