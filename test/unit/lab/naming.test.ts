// Names and ids the lab derives must match what the real clients and the CNI contract produce.
import assert from 'node:assert/strict';
import { containerdCniArgs } from '../../../lab/cni.js';
import { defaultPods, defaultStateDir, labNames, startLab, DEFAULT_STATE_DIR } from '../../../lab/cluster.js';
import { cnitoolContainerId, hostVethName } from '../../../lab/pods.js';

describe('lab naming', () => {
  it('derives the container id cnitool 1.1 uses for a netns path', () => {
    // Observed from .tools/bin/cnitool (libcni 1.1.2) adding /var/run/netns/tle-pod-x: CNI_CONTAINERID=cnitool-085aaf78c2e7c1fa08c1.
    assert.equal(cnitoolContainerId('/var/run/netns/tle-pod-x'), 'cnitool-085aaf78c2e7c1fa08c1');
  });

  it('names the host veth as the CNI contract says: veth + 11 hex of sha256(<containerId>/<ifname>), 15 chars', () => {
    const n = hostVethName('cnitool-085aaf78c2e7c1fa08c1', 'eth0');
    assert.match(n, /^veth[0-9a-f]{11}$/);
    assert.equal(n, hostVethName('cnitool-085aaf78c2e7c1fa08c1', 'eth0'));
    assert.notEqual(n, hostVethName('cnitool-085aaf78c2e7c1fa08c1', 'net1'));
  });

  it('writes CNI_ARGS in containerd 1.6 order', () => {
    assert.equal(containerdCniArgs({ sandboxId: 's1', uid: 'u1', namespace: 'default', name: 'web-1' }),
      'K8S_POD_INFRA_CONTAINER_ID=s1;K8S_POD_UID=u1;IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1');
  });

  it('keeps every netns under the prefix and tests out of the user\'s .lab', () => {
    const n = labNames('tle-');
    for (const name of [n.underlay, n.central, n.node('node1'), n.pod({ namespace: 'default', name: 'web-1' }), n.cniNetwork]) assert.ok(name.startsWith('tle-'), name);
    assert.equal(defaultStateDir('tessera-'), DEFAULT_STATE_DIR);
    assert.notEqual(defaultStateDir('tle-'), DEFAULT_STATE_DIR);
  });

  it('puts a web pod and a client on every node', () => {
    assert.deepEqual(defaultPods(2).map((p) => `${p.name}@${p.node}`), ['web-1@node1', 'web-2@node2', 'client@node1', 'client-2@node2']);
  });

  it('rejects bad options before touching anything', async () => {
    await assert.rejects(startLab({ prefix: 'Bad prefix' }), /lab prefix "Bad prefix"/);
    await assert.rejects(startLab({ prefix: 'tle-', nodes: 0 }), /lab nodes: 0/);
    await assert.rejects(startLab({ prefix: 'tle-', pods: [{ namespace: 'default', name: 'Web_1', node: 'node1' }] }), /name "Web_1" is not a DNS-1123 label/);
    await assert.rejects(startLab({ prefix: 'tle-', pods: [{ namespace: 'default', name: 'a', node: 'node9' }] }), /node node9 is not one of node1, node2/);
    await assert.rejects(startLab({ prefix: 'tle-', binDir: '/nonexistent' }), /missing \/nonexistent\/tessera-watcher, .*\(run make build/);
  });
});
