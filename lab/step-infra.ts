// The lab's infrastructure steps: the underlay network, OVN central, the nodes' OVS and ovn-controller, and the
// Kubernetes API (the test double) with the cluster's Node objects.
import { join } from 'node:path';
import { KUBELET_SOCKET } from './kubelet-step.js';
import { REPO_ROOT } from './paths.js';
import { kubeClient, nodePath, startApiServer } from './kube.js';
import { need, type LabContext, type LabStep } from './lab-context.js';
import { addAddr, addNetns } from './netns.js';
import { chassisNames, startCentral } from './ovn-central.js';
import { startOvsNode, vsctl } from './ovs-node.js';
import { ensureLabPki } from './pki.js';
import { UNDERLAY_NIC, createUnderlay, plugUnderlay } from './underlay.js';
import { allSettledOrThrow, waitFor } from './wait.js';

/** The underlay bridge (unless shared) and every cluster netns plugged into it; the central gets its IP. */
export const underlayStep: LabStep = {
  name: 'underlay',
  async run(c: LabContext): Promise<void> {
    c.log(`underlay ${c.underlay.netns} (${c.underlay.cidr}${c.net.sharedUnderlay ? ', shared' : ''}), central ${c.names.central}, ${c.nodeNames.length} node netns`);
    if (!c.net.sharedUnderlay) await createUnderlay(c.underlay.netns);
    await addNetns(c.names.central);
    await plugUnderlay(c.underlay.netns, c.names.central, c.vethShort('central'));
    await addAddr(c.names.central, UNDERLAY_NIC, `${c.net.centralIp}/${c.plen}`);
    for (const n of c.nodeNames) {
      await addNetns(c.names.node(n));
      await plugUnderlay(c.underlay.netns, c.names.node(n), c.vethShort(n));
    }
  },
};

/** The PKI (unless plain tcp:) and OVN central: NB, SB, ovn-northd. */
export const centralStep: LabStep = {
  name: 'OVN central',
  async run(c: LabContext): Promise<void> {
    c.pki = c.pkiDir === undefined ? undefined : await ensureLabPki(c.pkiDir);
    c.log(`OVN central: NB, SB, northd (${c.pki ? `ssl, PKI ${c.pki.dir}` : 'tcp'})`);
    c.central = await startCentral({ dir: join(c.runDir, 'central'), netns: c.names.central, ip: c.net.centralIp, tls: c.pki?.roles.central });
  },
};

/** Every node's ovsdb-server, ovs-vswitchd and ovn-controller, up once its chassis is in SB and br-int exists. */
export const nodesStep: LabStep = {
  name: 'nodes',
  async run(c: LabContext): Promise<void> {
    const central = need(c.central, 'OVN central');
    c.log('nodes: ovsdb-server, ovs-vswitchd (netdev), br-phy, ovn-controller');
    c.nodes = await allSettledOrThrow(c.nodeNames.map((n, i) => startOvsNode({
      name: n, netns: c.names.node(n), dir: join(c.runDir, n), cidr: `${c.net.nodeIp(i)}/${c.plen}`,
      sbRemote: central.sbRemote, tls: c.pki?.roles.node,
    })));
    const ms = await waitFor(`chassis ${c.nodeNames.join(', ')} in SB`, async () => {
      const have = await chassisNames(central);
      return c.nodeNames.every((n) => have.includes(n));
    }, 30_000);
    await Promise.all(c.nodes.map((n) => waitFor(`br-int on ${n.name}`, async () => (await vsctl(n, ['list-br'])).split('\n').includes('br-int'), 10_000)));
    c.log(`all chassis registered (${ms} ms after the last ovn-controller started)`);
  },
};

/** The Kubernetes API test double in the central netns, with a Ready Node object per node (the lab plays kubelet). */
export const apiStep: LabStep = {
  name: 'Kubernetes API',
  async run(c: LabContext): Promise<void> {
    const central = need(c.central, 'OVN central');
    c.api = await startApiServer({ repoRoot: REPO_ROOT, dir: central.dir, netns: c.names.central, ip: c.net.centralIp, unixSocket: join(c.runDir, 'apiserver.sock'),
      kubeletSocket: join(c.runDir, KUBELET_SOCKET) });
    const kube = (c.kube = kubeClient(c.api));
    c.log(`API test server ${c.api.url} (root netns: ${c.api.unixSocket})`);
    for (const [i, n] of c.nodeNames.entries()) {
      await kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'kubernetes.io/hostname': n, 'kubernetes.io/os': 'linux' }, annotations: {} } });
      await kube.patch(`${nodePath(n)}/status`, { status: {
        addresses: [{ type: 'InternalIP', address: c.net.nodeIp(i) }, { type: 'Hostname', address: n }],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab node' }],
      } }, 'merge');
    }
  },
};
