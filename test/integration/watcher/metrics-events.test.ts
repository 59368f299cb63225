// The watcher's /metrics after real work, and the Events (and pod-network-error annotation) a user sees when a
// node's subnet or the cluster CIDR runs out, a requested switch does not exist, or NB refuses a write.
// A tiny cluster: --cluster-cidr /28 with --node-subnet-prefix 29 is two node subnets of four pod addresses each.
import assert from 'node:assert/strict';
import { freePort } from '../../../testkit/ovsdb-server.js';
import { sample, scrape } from '../../fixtures/prom.js';
import { WatcherFixture, until, sleep, type WatcherProc } from './fixture.js';
import type { KubeObject } from '../../../kube-double/resources.js';
import { ownedBy } from '../../../lib/ovn/names.js';

const ERR = 'tessera.io/pod-network-error';

describe('watcher: metrics and Events (real NB, /29 node subnets)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  let port: number;
  let w: WatcherProc;
  const events = (name: string, reason?: string): KubeObject[] =>
    f.list('event', 'default').filter((e) => (e.involvedObject as { name: string }).name === name && (!reason || e.reason === reason));
  const annotations = (name: string): Record<string, string> => f.get('pod', 'default', name)?.metadata.annotations ?? {};
  /** Pod ports in NB on a switch: the real used count the gauges must show. */
  const podPorts = (ls: string): number =>
    (f.ls(ls)?.ports ?? []).filter((u) => {
      const lsp = f.nb.cache.get('Logical_Switch_Port', u);
      return lsp && ownedBy(lsp.external_ids, 'pod');
    }).length;

  before(async () => {
    await f.start();
    port = await freePort();
    for (const n of ['n1', 'n2', 'n3']) f.node(n);
    w = f.startWatcher(['--no-leader-election', '--health-listen', `127.0.0.1:${port}`, '--cluster-cidr', '10.244.0.0/28', '--node-subnet-prefix', '29']);
  });
  after(async () => {
    if (this.ctx.currentTest?.state === 'failed') process.stderr.write(w.log().slice(-4000));
    await f.stop();
  });

  it('raises one SubnetExhausted Event on the node that finds no subnet left, however often it retries', async () => {
    await until(() => f.ls('n1') && f.ls('n2'), 20000, 'switches of n1 and n2');
    const ev = await until(() => events('n3', 'SubnetExhausted')[0], 10000, 'SubnetExhausted on node n3');
    assert.equal(ev.type, 'Warning');
    assert.equal((ev.involvedObject as { kind: string }).kind, 'Node');
    assert.equal(ev.message, 'no free /29 left in cluster CIDR 10.244.0.0/28 for node n3 (2 subnets, all assigned)');
    await sleep(3000); // several retries with backoff
    assert.equal(events('n3', 'SubnetExhausted').length, 1);
    assert.equal(f.ls('n3'), undefined);
  });

  it('raises AddressExhausted on the pod the node subnet has no address for, and says so in pod-network-error', async () => {
    for (const p of ['a1', 'a2', 'a3', 'a4']) f.pod('default', p, 'n1');
    for (const p of ['a1', 'a2', 'a3', 'a4']) await until(() => f.podNetwork('default', p), 15000, `annotation of ${p}`);
    f.pod('default', 'a5', 'n1');
    const ev = await until(() => events('a5', 'AddressExhausted')[0], 10000, 'AddressExhausted on default/a5');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, 'subnet 10.244.0.0/29 has no free address for default/a5 (4 pod addresses, all allocated)');
    const ann = await until(() => annotations('a5')[ERR], 5000, `${ERR} on a5`);
    assert.equal(ann, `AddressExhausted: ${ev.message}`);
    await sleep(2000);
    assert.equal(events('a5', 'AddressExhausted').length, 1, 'one Event per distinct problem, not one per retry');
    assert.equal(f.podNetwork('default', 'a5'), undefined);
  });

  it('serves /metrics whose IPAM gauges, pod latencies, queues and OVSDB rows match the real state', async () => {
    const text = await scrape(port);
    assert.equal(podPorts('n1'), 4);
    assert.equal(sample(text, 'tessera_watcher_ipam_used_addresses{switch="n1",subnet="10.244.0.0/29"}'), podPorts('n1'));
    assert.equal(sample(text, 'tessera_watcher_ipam_free_addresses{switch="n1",subnet="10.244.0.0/29"}'), 4 - podPorts('n1'));
    assert.equal(sample(text, 'tessera_watcher_ipam_used_addresses{switch="n2",subnet="10.244.0.8/29"}'), podPorts('n2'));
    assert.equal(sample(text, 'tessera_watcher_ipam_free_addresses{switch="n2",subnet="10.244.0.8/29"}'), 4 - podPorts('n2'));
    assert.equal(sample(text, 'tessera_watcher_node_subnets{state="used"}'), 2);
    assert.equal(sample(text, 'tessera_watcher_node_subnets{state="free"}'), 0);
    assert.equal(sample(text, 'tessera_watcher_leader'), 1);
    // Four pods annotated, each measured once from first sight; a5 has no latency yet.
    assert.equal(sample(text, 'tessera_watcher_pod_latency_seconds_count{stage="annotated"}'), 4);
    assert.ok(sample(text, 'tessera_watcher_sync_duration_seconds_count{controller="pod"}')! >= 5);
    assert.ok(sample(text, 'tessera_watcher_sync_errors_total{controller="pod"}')! >= 2, 'a5 failed and was retried');
    assert.ok(sample(text, 'tessera_watcher_sync_errors_total{controller="node"}')! >= 2, 'n3 failed and was retried');
    assert.ok(sample(text, 'tessera_watcher_queue_depth{controller="pod"}')! >= 1, 'a5 waits to retry');
    assert.ok(sample(text, 'tessera_watcher_nb_transaction_duration_seconds_count{result="ok"}')! >= 3);
    assert.equal(sample(text, 'tessera_ovsdb_monitor_rows{db="nb",table="Logical_Switch"}'), f.nb.cache.size('Logical_Switch'));
    assert.equal(sample(text, 'tessera_ovsdb_connected{db="nb"}'), 1);
    assert.equal(sample(text, 'tessera_ovsdb_reconnects_total{db="nb"}'), 0);
  });

  it('gives the freed address to the waiting pod and removes its pod-network-error', async () => {
    f.remove('pod', 'default', 'a1');
    const net = await until(() => f.podNetwork('default', 'a5'), 40000, 'a5 annotated after a1 went');
    assert.equal(net.logical_switch, 'n1');
    await until(() => annotations('a5')[ERR] === undefined, 10000, `${ERR} removed from a5`);
    const text = await scrape(port);
    assert.equal(sample(text, 'tessera_watcher_ipam_used_addresses{switch="n1",subnet="10.244.0.0/29"}'), 4);
    assert.equal(sample(text, 'tessera_watcher_pod_latency_seconds_count{stage="annotated"}'), 5);
  });

  it('raises SubnetNotFound for a requested switch Tessera does not manage', async () => {
    f.pod('default', 'ls-bad', 'n2', { annotations: { 'ovn.kubernetes.io/logical_switch': 'nope' } });
    const ev = await until(() => events('ls-bad')[0], 10000, 'an Event on default/ls-bad');
    assert.equal(ev.reason, 'SubnetNotFound');
    assert.equal(ev.message, 'ovn.kubernetes.io/logical_switch="nope" is not a logical switch Tessera manages');
    await until(() => annotations('ls-bad')[ERR] === `SubnetNotFound: ${ev.message}`, 5000, `${ERR} on ls-bad`);
  });

  it('raises NBWriteFailed once per distinct error while NB is down, and counts the reconnect', async () => {
    await f.nbServer.stop();
    f.pod('default', 'nbdown', 'n2');
    const ev = await until(() => events('nbdown', 'NBWriteFailed')[0], 15000, 'NBWriteFailed on default/nbdown');
    assert.match(String(ev.message), /^writing the pod's port to the OVN Northbound database failed: /);
    await sleep(3000); // retries meet the same error
    const all = events('nbdown', 'NBWriteFailed').map((e) => String(e.message));
    assert.equal(new Set(all).size, all.length, `one Event per distinct error: ${JSON.stringify(all)}`);
    assert.ok(all.length <= 3, `rate-limited: ${JSON.stringify(all)}`);
    assert.equal(annotations('nbdown')[ERR], undefined, 'an NB failure is not an allocation failure');
    await f.nbServer.start();
    await until(() => f.podNetwork('default', 'nbdown'), 40000, 'nbdown annotated once NB is back');
    await until(async () => sample(await scrape(port), 'tessera_ovsdb_reconnects_total{db="nb"}') === 1, 10000, 'one reconnect counted');
  });
});
