// tessera-watcher creates each node's management port k8s-<node> (real NB, API test double), with the MAC the
// node's agent announces in tessera.io/node-mgmt-port-mac. That annotation is node-writable: a malformed or hostile
// value is refused with a Warning Event on the Node and never reaches NB.
import assert from 'node:assert/strict';
import { WatcherFixture, until, type WatcherProc } from './fixture.js';
import { NODE_MGMT_MAC_ANNOTATION } from '../../../lib/kube/annotations.js';
import { macFromIPv4 } from '../../../lib/ovn/names.js';
import type { KubeObject } from '../../../kube-double/resources.js';

describe('watcher: management port k8s-<node> from the Node annotation (real NB)', function () {
  this.timeout(60000);
  const f = new WatcherFixture();
  let w: WatcherProc;
  let subnetBase = '';
  const events = (reason: string): KubeObject[] =>
    f.list('event', 'default').filter((e) => (e.involvedObject as { kind: string; name: string }).name === 'n1' && (e.involvedObject as { kind: string }).kind === 'Node' && e.reason === reason);
  /** Refusal Events quoting `value` (the list is not in creation order; the quote is cut for long values). */
  const refusals = (value: string): KubeObject[] =>
    events('ManagementPortMacRefused').filter((e) => String(e.message).includes(JSON.stringify(value).slice(0, 40)));
  const announce = (mac: string): void => {
    f.patch('node', undefined, 'n1', { metadata: { annotations: { [NODE_MGMT_MAC_ANNOTATION]: mac } } });
  };
  const mgmtAddresses = (): string[] | undefined => f.lsp('k8s-n1')?.addresses;

  before(async () => {
    await f.start();
    f.node('n1');
    w = f.startWatcher();
    const ls = await until(() => f.ls('n1'), 20000, 'switch n1');
    subnetBase = ls.other_config.subnet!.replace(/\.0\/24$/, '');
  });
  after(async function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(w.log().split('\n').slice(-30).join('\n') + '\n');
    await f.stop();
  });

  it('creates no k8s-<node> before the agent announces its MAC', async () => {
    await until(() => f.get('node', undefined, 'n1')?.metadata.annotations?.['tessera.io/node-subnet'], 10000, 'subnet annotation');
    assert.equal(f.lsp('k8s-n1'), undefined);
  });

  it('creates k8s-<node> on the node switch with the announced MAC and the .2 address, owned by the node', async () => {
    const mac = macFromIPv4(`${subnetBase}.2`);
    announce(mac);
    const lsp = await until(() => f.lsp('k8s-n1'), 10000, 'LSP k8s-n1');
    assert.deepEqual(lsp.addresses, [`${mac} ${subnetBase}.2`]);
    assert.equal(lsp.type, '');
    assert.deepEqual(lsp.port_security, []);
    assert.equal(lsp.external_ids['tessera.io/kind'], 'node');
    assert.equal(lsp.external_ids['tessera.io/object'], 'n1');
    assert.ok(f.ls('n1')!.ports.includes(lsp._uuid), 'k8s-n1 is on switch n1');
    // Another ordinary unicast MAC (upper case is normalised) replaces it in place.
    announce('02:00:00:AA:00:01');
    await until(() => mgmtAddresses()?.[0] === `02:00:00:aa:00:01 ${subnetBase}.2`, 10000, 'k8s-n1 with the new MAC');
    assert.equal(f.lsp('k8s-n1')!._uuid, lsp._uuid);
  });

  const hostile: Array<[string, string, RegExp]> = [
    ['a second address smuggled in', '02:00:00:00:00:09 10.244.9.9', /is not a MAC address/],
    ['broadcast', 'ff:ff:ff:ff:ff:ff', /is a multicast or broadcast MAC/],
    ['all zeros', '00:00:00:00:00:00', /is the all-zero MAC/],
    ['the router port MAC (derived from .1)', 'ROUTER', /is in 0a:58:\*, which Tessera derives from pod and router IPs/],
    ['a long value', 'x'.repeat(5000), /is not a MAC address/],
  ];
  for (const [what, value, re] of hostile) {
    it(`refuses ${what} with a Warning Event on the Node; k8s-<node> keeps its addresses`, async () => {
      const before = mgmtAddresses();
      const v = value === 'ROUTER' ? macFromIPv4(`${subnetBase}.1`) : value;
      announce(v);
      const ev = await until(() => refusals(v)[0], 10000, `a ManagementPortMacRefused Event for ${what}`);
      assert.equal(ev.type, 'Warning');
      assert.match(String(ev.message), re);
      assert.ok(String(ev.message).length < 300, 'the Event quotes a bounded part of the value');
      assert.deepEqual(mgmtAddresses(), before);
    });
  }

  it('refuses a MAC another port of the node switch uses (a pod\'s), and reports the same value once', async () => {
    f.pod('default', 'p1', 'n1', { annotations: { 'ovn.kubernetes.io/mac_address': '02:00:00:00:07:07' } });
    await until(() => f.lsp('default_p1')?.addresses[0]?.startsWith('02:00:00:00:07:07 '), 10000, 'pod p1 with its requested MAC');
    const before = mgmtAddresses();
    announce('02:00:00:00:07:07');
    const ev = await until(() => refusals('02:00:00:00:07:07')[0], 10000, 'refusal of the pod\'s MAC');
    assert.match(String(ev.message), /is already used by port default_p1/);
    // A later Node update with the same value does not repeat the Event.
    f.patch('node', undefined, 'n1', { metadata: { labels: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(refusals('02:00:00:00:07:07').length, 1);
    assert.deepEqual(mgmtAddresses(), before);
  });
});
