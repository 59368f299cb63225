// The gateway's NB operations against a real OVN NB ovsdb-server: the cluster router's join link is the watcher's
// (the gateway waits for it and never writes it), two gateways starting at once get distinct join IPs, a second pass
// sends nothing, drift is repaired, service LBs follow, and removal takes only the node's rows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonFlags, stopDaemons } from '../../../lab/daemon.js';
import { run } from '../../../lab/exec.js';
import { waitFor } from '../../../lab/wait.js';
import { createLogger } from '../../../lib/log.js';
import { NotReadyError, applyGateway, applyLoadBalancers, connectNb, ensureClusterJoinLink, removeGateway, type Nb } from '../../../gateway/nb.js';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { parseCIDR } from '../../../lib/ipnet/index.js';
import { masterInit, WATCHED_TABLES } from '../../../watcher/master-init.js';
import type { WatcherConfig } from '../../../watcher/config.js';
import { gatewayTopology } from '../../../gateway/topology.js';
import { DEFAULT_EGRESS } from '../../../gateway/egress-nat.js';
import type { GatewayLb } from '../../../gateway/services.js';
import { gatewayIds } from '../../../lib/ovn/names.js';

const log = createLogger('test', { level: 'warn' });

describe('gateway NB operations (real NB ovsdb-server)', function () {
  this.timeout(60_000);
  let dir: string;
  let sock: string;
  let a: Nb;
  let b: Nb;
  const nbctl = (args: string[]): Promise<string> => run('ovn-nbctl', [`--db=unix:${sock}`, '--no-leader-only', ...args]);
  const topo = (node: string, subnet: string, physicalIp: string) => (joinIp: string) => gatewayTopology({
    node, chassis: `ch-${node}`, bridge: 'breth0', gwMac: '02:00:00:00:00:01', physicalIp, physicalPrefix: 24, defaultGw: '192.168.5.1',
    clusterSubnet: '10.244.0.0/16', nodeSubnet: subnet, joinIp, joinPrefix: 16, clusterJoinIp: '100.64.0.1', physicalNetwork: 'physnet', egress: DEFAULT_EGRESS, nodeIp: physicalIp,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgw-nb-'));
    sock = join(dir, 'nb.sock');
    await run('ovsdb-tool', ['create', join(dir, 'nb.db'), '/usr/share/ovn/ovn-nb.ovsschema']);
    await run('ovsdb-server', [join(dir, 'nb.db'), `--remote=punix:${sock}`, ...daemonFlags(dir, 'nb')]);
    await nbctl(['init']);
    await nbctl(['lr-add', 'ovn_cluster_router', '--', 'ls-add', 'join']);
    a = await connectNb([`unix:${sock}`], log);
    b = await connectNb([`unix:${sock}`], log);
  });
  after(async () => {
    a?.close();
    b?.close();
    await stopDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the cluster join link the watcher\'s master-init writes, and never writes it itself', async () => {
    await assert.rejects(ensureClusterJoinLink(a, '100.64.0.0/16'), NotReadyError);
    assert.equal((await nbctl(['--bare', '--columns=name', 'find', 'Logical_Router_Port', 'name=rtoj-ovn_cluster_router'])).trim(), '', 'the gateway wrote no link');
    const w = await OvsdbClient.connect(NB_MODEL, { remotes: [`unix:${sock}`] });
    try {
      await w.monitor([...WATCHED_TABLES]);
      await masterInit(w, { joinCidr: parseCIDR('100.64.0.0/16') } as Pick<WatcherConfig, 'joinCidr'> as WatcherConfig);
    } finally {
      w.close();
    }
    await waitFor('a and b see the join link', () => [a, b].every((c) => c.cache.lookup('Logical_Router_Port', 'name', 'rtoj-ovn_cluster_router') !== undefined), 5000);
    assert.equal(await ensureClusterJoinLink(a, '100.64.0.0/16'), '100.64.0.1');
    assert.equal(await ensureClusterJoinLink(b, '100.64.0.0/16'), '100.64.0.1');
  });

  it('two gateways starting at the same time get distinct join IPs', async () => {
    const [r1, r2] = await Promise.all([
      applyGateway(a, 'n1', '100.64.0.0/16', topo('n1', '10.244.1.0/24', '192.168.5.11')),
      applyGateway(b, 'n2', '100.64.0.0/16', topo('n2', '10.244.2.0/24', '192.168.5.12')),
    ]);
    assert.deepEqual([r1.joinIp, r2.joinIp].sort(), ['100.64.0.2', '100.64.0.3']);
    const nets = (await nbctl(['--bare', '--columns=networks', 'list', 'Logical_Router_Port'])).split('\n').filter((l) => l !== '').sort();
    assert.deepEqual(nets, ['100.64.0.1/16', '100.64.0.2/16', '100.64.0.3/16', '192.168.5.11/24', '192.168.5.12/24']);
    assert.match(await nbctl(['lr-route-list', 'ovn_cluster_router']), new RegExp(`10\\.244\\.1\\.0/24\\s+${r1.joinIp.replace(/\./g, '\\.')} src-ip`));
    const policies = await nbctl(['lr-policy-list', 'ovn_cluster_router']);
    assert.match(policies, /1004\s+ip4\.src == 10\.244\.1\.0\/24 && ip4\.src != 10\.244\.1\.2 && ip4\.dst == 192\.168\.5\.11\s+reroute\s+10\.244\.1\.2/);
    assert.match(policies, /ip4\.dst == 192\.168\.5\.12\s+reroute\s+10\.244\.2\.2/);
  });

  it('a second pass sends nothing and keeps the recorded join IP', async () => {
    await waitFor('a sees n2', () => a.cache.lookup('Logical_Router', 'name', 'GR_n2') !== undefined, 5000);
    const before = await nbctl(['get', 'Logical_Router', 'GR_n1', 'external_ids:"tessera.io/join-ip"']);
    const r = await applyGateway(a, 'n1', '100.64.0.0/16', topo('n1', '10.244.1.0/24', '192.168.5.11'));
    assert.equal(r.ops, 0);
    assert.equal(`"${r.joinIp}"`, before);
  });

  it('repairs drift: a deleted SNAT and a changed GR option come back', async () => {
    await nbctl(['lr-nat-del', 'GR_n1', '--', 'set', 'Logical_Router', 'GR_n1', 'options:chassis=elsewhere']);
    await waitFor('a sees the drift', () => (a.cache.lookup('Logical_Router', 'name', 'GR_n1')?.nat.length ?? 1) === 0, 5000);
    const r = await applyGateway(a, 'n1', '100.64.0.0/16', topo('n1', '10.244.1.0/24', '192.168.5.11'));
    assert.ok(r.ops > 0 && r.ops <= 3, `a small repair, not a rebuild (${r.ops} ops)`);
    assert.equal(await nbctl(['get', 'Logical_Router', 'GR_n1', 'options:chassis']), 'ch-n1');
    assert.match(await nbctl(['lr-nat-list', 'GR_n1']), /snat\s+192\.168\.5\.11\s+10\.244\.0\.0\/16/);
  });

  it('service LBs: created on the GR, updated in place, removed with their service', async () => {
    const lb = (vips: Record<string, string>): GatewayLb => ({ name: 'gw_n1_ns_web_tcp', protocol: 'tcp', vips, options: { reject: 'true' }, external_ids: gatewayIds('n1', 'service') });
    await nbctl(['ls-add', 'n1']);
    await waitFor('a sees switch n1', () => a.cache.lookup('Logical_Switch', 'name', 'n1') !== undefined, 5000);
    assert.equal(await applyLoadBalancers(a, 'n1', [lb({ '192.168.5.11:30080': '10.244.1.5:8080' })]), 4, 'absent-guard, insert, on the GR, on the node switch');
    await waitFor('cache has the LB', () => a.cache.lookup('Load_Balancer', 'name', 'gw_n1_ns_web_tcp') !== undefined, 5000);
    const uuid = (await nbctl(['--bare', '--columns=_uuid', 'find', 'Load_Balancer', 'name=gw_n1_ns_web_tcp'])).trim();
    assert.equal(await applyLoadBalancers(a, 'n1', [lb({ '192.168.5.11:30080': '10.244.1.5:8080,10.244.2.5:8080' })]), 1);
    await waitFor('update seen', () => a.cache.lookup('Load_Balancer', 'name', 'gw_n1_ns_web_tcp')?.vips['192.168.5.11:30080']?.includes('10.244.2.5') === true, 5000);
    assert.equal((await nbctl(['--bare', '--columns=_uuid', 'find', 'Load_Balancer', 'name=gw_n1_ns_web_tcp'])).trim(), uuid, 'same row');
    assert.ok((await nbctl(['get', 'Logical_Router', 'GR_n1', 'load_balancer'])).includes(uuid));
    assert.ok((await nbctl(['get', 'Logical_Switch', 'n1', 'load_balancer'])).includes(uuid), "on the node's switch too: its pods reach node IP:nodePort");
    await applyLoadBalancers(a, 'n1', []);
    assert.equal((await nbctl(['--bare', '--columns=_uuid', 'find', 'Load_Balancer', 'name=gw_n1_ns_web_tcp'])).trim(), '');
    assert.equal(await nbctl(['get', 'Logical_Switch', 'n1', 'load_balancer']), '[]');
  });

  it('removal takes only that node\'s rows', async () => {
    await waitFor('cache settled', () => a.cache.lookup('Load_Balancer', 'name', 'gw_n1_ns_web_tcp') === undefined, 5000);
    const joinIp = a.cache.lookup('Logical_Router', 'name', 'GR_n1')!.external_ids['tessera.io/join-ip']!;
    await removeGateway(a, 'n1');
    const all = [await nbctl(['show']), await nbctl(['lr-route-list', 'ovn_cluster_router']), await nbctl(['lr-policy-list', 'ovn_cluster_router'])].join('\n');
    assert.doesNotMatch(all, /GR_n1|ext_n1|10\.244\.1\.0/);
    assert.ok(!all.includes(`${joinIp} `) && !all.includes(`${joinIp}/`), `nothing left of n1's join IP ${joinIp}`);
    assert.match(all, /GR_n2/);
    assert.match(all, /ext_n2/);
    assert.match(all, /10\.244\.2\.0\/24/);
    assert.match(all, /reroute\s+10\.244\.2\.2/, "n2's node-IP policy stays");
  });
});
