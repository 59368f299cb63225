// Nested mode on OVN alone (issue 16) on the lab: a hypervisor with two VMs (lab/nested.ts), each a nested Node with a
// nested tessera-agent and pods wired through cnitool → tessera-cni → agent as VLAN children of the VM's port. Real
// packets: nested pod ↔ nested pod on the same VM and on the other VM, ↔ an ordinary pod, a Service with nested
// endpoints, a NetworkPolicy on nested pods, the VMs' own addresses both ways (the VMs' switch on the cluster router);
// then VLAN tags recovered from NB after a watcher crash.
import assert from 'node:assert/strict';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { readLabFile } from '../../lab/lab-file.js';
import { nestedReport } from '../../lab/nested-checks.js';
import { run } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';
import { hostVethName } from '../../lib/cni-protocol.js';
import { cnitoolContainerId, netnsPath, POD_IFNAME } from '../../lab/pods.js';

const PREFIX = 'tnest-';

describe('nested nodes in VMs on the lab (real pods and packets, VLAN children on OVN)', function () {
  this.timeout(600_000);
  let lab: Lab;
  /** The lab's checks, run once by the reachability test and read by the VM test after it. */
  let checks: Awaited<ReturnType<Lab['check']>> = [];
  /** parent_name and tag of a pod's LSP, from NB. */
  const child = async (pod: string): Promise<{ parent: string; tag: number }> => {
    const [parent, tag] = (await lab.nbctl(['--bare', '--columns=parent_name,tag', 'find', 'Logical_Switch_Port', `name=default_${pod}`])).split('\n').filter(Boolean);
    return { parent: parent ?? '', tag: Number(tag) };
  };
  /** The VLAN id the nested agent wired for the pod: a kernel VLAN link's id, or its tagged veth's alias. */
  const wiredVlan = async (vmNetns: string, podNetns: string): Promise<number> => {
    const link = await run('ip', ['-n', podNetns, '-d', 'link', 'show', POD_IFNAME]);
    const m = /vlan protocol 802\.1Q id (\d+)/.exec(link);
    if (m) return Number(m[1]);
    const host = await run('ip', ['-n', vmNetns, '-d', 'link', 'show', hostVethName(cnitoolContainerId(netnsPath(podNetns)), POD_IFNAME)]);
    return Number(/alias tessera-vlan (\d+) eth0/.exec(host)?.[1]);
  };

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    lab = await startLab({ prefix: PREFIX, nodes: 1, gateway: false, policies: [], nested: true });
  });
  after(async () => {
    if (process.env.KEEP_TNEST === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it('lab.json lists the hypervisor, the VMs and their nested pods with netns and IPs; NB has them as VLAN children', async () => {
    const n = readLabFile(lab.labFilePath).nested;
    assert.ok(n, 'lab.json has nested{}');
    assert.deepEqual(n.vms.map((v) => [v.name, v.parentPort, v.pods.length]), [['vm1', 'vm1-nic', 2], ['vm2', 'vm2-nic', 2]]);
    for (const v of n.vms) {
      for (const p of v.pods) {
        assert.match(p.ip, /^10\.244\.\d+\.\d+$/);
        assert.ok(p.netns.startsWith(PREFIX));
        const c = await child(p.name);
        assert.equal(c.parent, v.parentPort, `${p.name} is a child of its VM's port`);
        assert.ok(c.tag >= 1 && c.tag <= 4094);
        assert.equal(await wiredVlan(v.netns, p.netns), c.tag, `${p.name}: the agent wired the tag NB has`);
      }
      const tags = await Promise.all(v.pods.map(async (p) => (await child(p.name)).tag));
      assert.equal(new Set(tags).size, tags.length, 'tags differ per parent');
    }
    assert.equal(readLabFile(lab.labFilePath).pods.some((p) => p.name.startsWith('nested-')), false, 'nested pods are not in pods[]');
  });

  it('nested pods reach each other on the same VM and across VMs, an ordinary pod both ways, the Service; the policy holds', async () => {
    const all = (checks = await lab.check());
    const n = lab.file.nested!;
    process.stdout.write(nestedReport(lab.file, all).replace(/^/gm, '      ') + '\n');
    for (const c of all) assert.ok(c.ok, `${c.kind} ${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    const has = (kind: string, from: string, to: string): boolean => all.some((c) => c.kind === kind && c.from === `default/${from}` && c.to === `default/${to}` && c.ok);
    // Same VM: client-1 → web-1 (TCP the policy allows), web-1 → client-1 (ping and TCP).
    assert.ok(has('policy', 'nested-client-1', 'nested-web-1') && has('ping', 'nested-web-1', 'nested-client-1') && has('tcp', 'nested-web-1', 'nested-client-1'));
    // Other VM.
    assert.ok(has('ping', 'nested-client-1', 'nested-client-2') && has('tcp', 'nested-client-2', 'nested-client-1') && has('policy', 'nested-client-2', 'nested-web-1'));
    // Ordinary pod on node1, both ways.
    assert.ok(has('ping', 'nested-client-1', 'client') && has('tcp', 'nested-web-2', 'client') && has('ping', 'client', 'nested-client-2') && has('tcp', 'client', 'nested-client-1'));
    // NetworkPolicy on nested pods: the ordinary client and the other web pod are denied (ok means denied here).
    const denied = all.filter((c) => c.kind === 'policy' && /denied by default\/nested-web-allow-clients/.test(c.detail));
    assert.ok(denied.some((c) => c.from === 'default/client' && c.to === 'default/nested-web-1'));
    assert.ok(denied.some((c) => c.from === 'default/nested-web-1' && c.to === 'default/nested-web-2'));
    // The Service with nested endpoints, answered by nested web pods.
    const svc = all.filter((c) => c.kind === 'service' && c.to === `default/${n.service.name}`);
    assert.equal(svc.length, 2);
    for (const c of svc) assert.match(c.detail, /answered by default\/nested-web-\d/);
  });

  it("nested pods and an ordinary pod reach the VMs' own eth0 addresses and back, through the cluster router", async () => {
    const n = lab.file.nested!;
    assert.ok(checks.length > 0, 'the reachability test ran the checks');
    const lrp = (await lab.nbctl(['--bare', '--columns=networks', 'find', 'Logical_Router_Port', `name=${n.vmRouter.port}`])).trim();
    assert.equal(lrp, `${n.vmRouter.ip}/24`, "the VMs' gateway is a port of the cluster router");
    const ok = (kind: string, from: string, to: string): boolean => checks.some((c) => c.kind === kind && c.from === from && c.to === to && c.ok);
    for (const v of n.vms) {
      const vm = `vm/${v.name}`;
      for (const p of [...n.vms.flatMap((w) => w.pods), { name: 'client' }]) assert.ok(ok('ping', `default/${p.name}`, vm), `default/${p.name} pings ${vm} ${v.ip}`);
      for (const c of ['nested-client-1', 'nested-client-2', 'client']) {
        assert.ok(ok('ping', vm, `default/${c}`) && ok('tcp', vm, `default/${c}`), `${vm} pings and talks TCP to default/${c}`);
      }
      for (const w of ['nested-web-1', 'nested-web-2']) assert.ok(ok('policy', vm, `default/${w}`), `the policy denies ${vm} into default/${w}`);
    }
  });

  it('keeps every VLAN tag across a watcher crash and hands a new pod a free one, recovered from NB', async () => {
    const n = lab.file.nested!;
    const pods = n.vms.flatMap((v) => v.pods);
    const before = new Map(await Promise.all(pods.map(async (p) => [p.name, await child(p.name)] as const)));
    await lab.restartWatcher('SIGKILL');
    // The log holds both runs: the second start-up reconcile is the restarted watcher's.
    await waitFor('the restarted watcher to converge', async () => ((await run('cat', [`${lab.central.dir}/tessera-watcher.log`])).match(/reconcile \(start\) done/g) ?? []).length >= 2, 30_000);
    for (const p of pods) assert.deepEqual(await child(p.name), before.get(p.name), `${p.name} keeps its parent and tag`);
    const vm1 = n.vms[0];
    const fresh = await lab.addPod({ namespace: 'default', name: 'nested-late', node: vm1.name, labels: { app: 'nested-late' } });
    try {
      const c = await child('nested-late');
      assert.equal(c.parent, vm1.parentPort);
      const taken = vm1.pods.map((p) => before.get(p.name)!.tag);
      assert.ok(!taken.includes(c.tag), `new tag ${c.tag} is none of vm1's tags in use (${taken.join(', ')})`);
      assert.equal(await wiredVlan(vm1.netns, fresh.netns), c.tag);
      const other = n.vms[1].pods.find((p) => p.name === 'nested-client-2')!;
      await run('ping', ['-n', '-q', '-c', '2', '-w', '5', other.ip], { netns: fresh.netns, timeoutMs: 10_000 });
    } finally {
      await lab.deletePod('default', 'nested-late');
    }
  });
});
