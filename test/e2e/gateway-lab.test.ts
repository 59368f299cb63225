// The gateways on the standard lab (lab/gateway.ts, prefix tgw-lab-): an external host on the underlay,
// tessera-gateway run on every node in shared-NIC mode on br-phy, default/web as a NodePort. Checks what `make lab`
// reports for the gateways: pod egress from every node SNATed to that node's IP (seen by the external host), each
// node's own traffic still flowing, and external host -> NodePort on every node -> web pods; then the lab's own
// checks still pass. Here with addLabGateway() on a running lab; make lab's own way (startLab({ gateway: true }),
// with the whole egress matrix) is test/e2e/lab-make.test.ts.
import assert from 'node:assert/strict';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { addLabGateway } from '../../lab/gateway.js';

const PREFIX = 'tgw-lab-';

describe('tessera-gateway on the lab (every node a gateway, external host on the underlay)', function () {
  this.timeout(300_000);
  let lab: Lab | undefined;

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    lab = await startLab({ prefix: PREFIX, nodes: 2 });
  });
  after(async () => {
    if (process.env.KEEP_TGW === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it('reports external reachability through the gateway and keeps the cluster checks green', async () => {
    const gw = await addLabGateway(lab!);
    const checks = await gw.check();
    process.stdout.write(checks.map((c) => `      ${c.ok ? 'ok  ' : 'FAIL'} ${c.from} -> ${c.to} (${c.target}): ${c.detail}`).join('\n') + '\n');
    assert.deepEqual(gw.gateways.map((g) => g.node), ['node1', 'node2']);
    for (const n of lab!.file.nodes) {
      const pods = lab!.file.pods.filter((p) => p.node === n.name).map((p) => `${p.namespace}/${p.name}`);
      assert.ok(checks.some((c) => pods.includes(c.from) && c.to === 'external-host' && c.detail.endsWith(`sees ${n.ip}`)), `a pod on ${n.name} leaves SNATed to ${n.ip}`);
      assert.ok(checks.some((c) => c.from === `node ${n.name}`), `${n.name}'s own traffic`);
      assert.ok(checks.some((c) => c.from === 'external-host' && c.target.startsWith(`${n.ip}:`)), `NodePort on ${n.name}`);
    }
    for (const c of checks) assert.ok(c.ok, `${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    const cluster = await lab!.check();
    for (const c of cluster) assert.ok(c.ok, `lab check ${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
  });
});
