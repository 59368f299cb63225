// tessera-agent needs no Northbound database: NB and ovn-northd are stopped before the agent starts (SB keeps what
// northd wrote from the scripted watcher's rows), and the agent still announces its management port MAC, becomes
// ready once ovn-controller binds the port, wires pods, and the host reaches them through k8s-<node>.
import assert from 'node:assert/strict';
import { waitFor } from '../../../lab/wait.js';
import { nodePath } from '../../../lab/kube.js';
import { nbctl } from '../../../lab/ovn-central.js';
import { scriptNodeSwitch } from '../../fixtures/nb-script.js';
import { succeeds } from '../../../lab/exec.js';
import { NODE_MGMT_MAC_ANNOTATION, NODE_SUBNET_ANNOTATION } from '../../../lib/kube/annotations.js';
import { useAgentFixture, GATEWAY, NODE, SUBNET, type TestPod } from './fixture.js';
import { ok } from './answers.js';

const MGMT_IP = '10.244.1.2';
const MGMT_MAC = '0a:58:0a:f4:01:02';

describe('tessera-agent without any Northbound database (integration, real OVS/OVN)', function () {
  this.timeout(120_000);
  let a: TestPod;
  let b: TestPod;
  const f = useAgentFixture(async (f) => {
    // What the watcher writes, while NB still runs: the node switch, k8s-n1 and two pod ports.
    await scriptNodeSwitch(f.central, NODE, SUBNET, GATEWAY);
    await nbctl(f.central, ['lsp-add', NODE, `k8s-${NODE}`, '--', 'lsp-set-addresses', `k8s-${NODE}`, `${MGMT_MAC} ${MGMT_IP}`]);
    a = await f.makePod('pod-a');
    b = await f.makePod('pod-b');
    for (const port of [`k8s-${NODE}`, 'default_pod-a', 'default_pod-b']) {
      await waitFor(`SB Port_Binding ${port}`, async () => (await f.sbctl(['--bare', '--columns=logical_port', 'find', 'Port_Binding', `logical_port=${port}`])) === port, 20_000);
    }
    await f.stopNorthbound();
    f.startAgent();
  });

  it('has no Northbound to reach: the NB server is gone', async () => {
    assert.equal(await succeeds('ovn-nbctl', [`--db=unix:${f.central.nbSocket}`, '--timeout=2', 'show']), false);
  });

  it('announces the management port MAC on its Node and becomes ready once ovn-controller binds k8s-n1', async () => {
    await f.kube.patch(nodePath(NODE), { metadata: { annotations: { [NODE_SUBNET_ANNOTATION]: SUBNET } } });
    await waitFor('readyz', async () => (await f.health('/readyz')) === 200, 60_000);
    const node = await f.kube.get(nodePath(NODE));
    assert.equal(node.metadata.annotations?.[NODE_MGMT_MAC_ANNOTATION], MGMT_MAC);
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'external_ids:ovn-installed'])).replaceAll('"', ''), 'true');
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'mac'])).replaceAll('"', ''), MGMT_MAC);
  });

  it('wires pods: they reach each other, and the host reaches them through the management port', async () => {
    for (const p of [a, b]) ok(await f.request(f.addRequest(p)));
    await f.inNs(a.netns, 'ping', ['-c', '2', '-W', '2', b.ip]);
    await f.inNs(f.nodeNs, 'ping', ['-c', '2', '-W', '2', a.ip]);
    ok(await f.request({ ...f.addRequest(a), command: 'DEL' }));
    assert.equal(await f.ovsPortExists(a.hostVeth), false);
  });
});
