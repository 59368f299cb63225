// The gateway on the standard lab (lab/gateway.ts, prefix tgw-lab-): an external host on the underlay,
// tessera-gateway run on node1 in shared-NIC mode on br-phy, default/web as a NodePort. Checks what `make lab`
// reports for the gateway: pod egress SNATed to the node IP (seen by the external host), the node's own traffic
// still flowing, and external host -> NodePort -> web pods; then the lab's own checks still pass. Here with script
// components and addLabGateway() on a running lab; make lab's own way (real components, startLab({ gateway: true }))
// is test/e2e/lab-make.test.ts.
import assert from 'node:assert/strict';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { addLabGateway } from '../../lab/gateway.js';

const PREFIX = 'tgw-lab-';

describe('tessera-gateway on the lab (node1 as gateway, external host on the underlay)', function () {
  this.timeout(300_000);
  let lab: Lab | undefined;

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    lab = await startLab({ prefix: PREFIX, nodes: 2, components: { watcher: false, agent: false } });
  });
  after(async () => {
    if (process.env.KEEP_TGW === '1') return;
    await teardownLab({ prefix: PREFIX });
  });

  it('reports external reachability through the gateway and keeps the cluster checks green', async () => {
    const gw = await addLabGateway(lab!);
    const checks = await gw.check();
    process.stdout.write(checks.map((c) => `      ${c.ok ? 'ok  ' : 'FAIL'} ${c.from} -> ${c.to} (${c.target}): ${c.detail}`).join('\n') + '\n');
    assert.ok(checks.length >= 3, 'pod egress, node egress and NodePort checked');
    for (const c of checks) assert.ok(c.ok, `${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
    const cluster = await lab!.check();
    for (const c of cluster) assert.ok(c.ok, `lab check ${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
  });
});
