// The watcher trusts no value a pod owner can write: a tampered tessera.io/pod-networks never reaches
// NB and is set back (with a Warning Event), also across a kill -9; Kube-OVN requests are validated;
// the IPAM rebuild takes addresses only from the watcher's own NB ports, the older pod winning a clash.
import assert from 'node:assert/strict';
import { WatcherFixture, until, sleep, type WatcherProc } from './fixture.js';
import { addressViolations } from './invariants.js';

const ANN = 'tessera.io/pod-networks';

describe('watcher: pod annotations are not trusted (real NB)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  let w: WatcherProc;
  before(async () => {
    await f.start();
    f.node('n1');
    w = f.startWatcher();
    await until(() => f.ls('n1'), 30000, 'switch n1');
  });
  after(async () => {
    await f.stop();
  });

  const events = (pod: string, reason: string) => f.list('event', 'default').filter((e) => (e.involvedObject as { name: string }).name === pod && e.reason === reason);
  const annotation = (pod: string) => f.get('pod', 'default', pod)?.metadata.annotations?.[ANN];
  const portEntry = (pod: string) => f.lsp(`default_${pod}`)?.addresses[0];
  const ipOf = (pod: string) => portEntry(pod)?.split(' ')[1];
  const setAnnotation = (pod: string, value: string) => f.patch('pod', 'default', pod, { metadata: { annotations: { [ANN]: value } } });
  const assertNoViolations = () => assert.deepEqual(addressViolations(f), []);

  /** Waits for `probe` while checking on every poll that the pod's port keeps exactly `entry` and no IP is on two ports. */
  async function untilKeeping<T>(pod: string, entry: string, probe: () => T | undefined | false, what: string): Promise<T> {
    return until(() => {
      const lsp = f.lsp(`default_${pod}`);
      assert.deepEqual([lsp?.addresses, lsp?.port_security], [[entry], [entry]], `port of ${pod} changed while waiting for ${what}`);
      assert.deepEqual(addressViolations(f).filter((v) => / is on \d+ ports: /.test(v)), [], `an IP on two ports while waiting for ${what}`);
      return probe();
    }, 15000, what);
  }

  it('a MAC with a CIDR in the annotation does not reach port_security; the annotation is set back with an Event', async () => {
    f.pod('default', 'spoofer', 'n1');
    const want = await until(() => annotation('spoofer'), 10000, 'spoofer annotated');
    const entry = portEntry('spoofer')!;
    const net = JSON.parse(want) as { default: { mac_address: string } };
    const evil = JSON.stringify({ default: { ...net.default, mac_address: `${net.default.mac_address} 10.244.0.0/16` } });
    setAnnotation('spoofer', evil);
    await untilKeeping('spoofer', entry, () => annotation('spoofer') === want, 'the annotation set back');
    const ev = await until(() => events('spoofer', 'PodNetworksAnnotationRestored')[0], 5000, 'a PodNetworksAnnotationRestored Event');
    assert.equal(ev.type, 'Warning');
    assert.match(String(ev.message), new RegExp(`did not match the network Tessera allocated to this pod; set back to ${ipOf('spoofer')!.replace(/\./g, '\\.')} `));
  });

  it('after kill -9, an annotation tampered and a port spoofed while the watcher was down are both set back', async () => {
    const want = annotation('spoofer')!;
    const entry = portEntry('spoofer')!;
    await w.kill('SIGKILL');
    const net = JSON.parse(want) as { default: { mac_address: string } };
    setAnnotation('spoofer', JSON.stringify({ default: { ...net.default, mac_address: `${net.default.mac_address} 10.244.0.0/16` } }));
    // What a watcher that copied that MAC into NB left behind.
    const [mac, ip] = entry.split(' ');
    const spoofed = `${mac} 10.244.0.0/16 ${ip}`;
    await f.nb.transact([f.nb.op.update('Logical_Switch_Port', [['name', '==', 'default_spoofer']], { addresses: [spoofed], port_security: [spoofed] })]);
    w = f.startWatcher();
    await until(() => annotation('spoofer') === want && portEntry('spoofer') === entry, 15000, 'the annotation and the port set back after the restart');
    assert.deepEqual(f.lsp('default_spoofer')!.port_security, [entry]);
    assertNoViolations();
  });

  it("pod A's annotation patched to pod B's IP, kill -9, restart: B keeps its IP, A keeps its own, no IP twice", async () => {
    f.pod('default', 'victim', 'n1');
    f.pod('default', 'thief', 'n1');
    await until(() => annotation('victim') && annotation('thief'), 10000, 'victim and thief annotated');
    const victimAnn = annotation('victim')!;
    const victimEntry = portEntry('victim')!;
    const thiefEntry = portEntry('thief')!;
    const stolen = JSON.parse(victimAnn) as { default: { ip_addresses: string[] } };
    const thiefNet = JSON.parse(annotation('thief')!) as { default: Record<string, unknown> };
    const forged = JSON.stringify({ default: { ...thiefNet.default, ip_addresses: stolen.default.ip_addresses } });
    const seen = f.list('event', 'default').length;
    setAnnotation('thief', forged);
    await until(() => f.list('event', 'default').length > seen, 10000, 'the watcher to react to the forged annotation');
    await w.kill('SIGKILL');
    setAnnotation('thief', forged); // whatever the watcher did before dying, it restarts with the forged value
    w = f.startWatcher();
    await untilKeeping('victim', victimEntry, () => annotation('thief') !== forged && f.podNetwork('default', 'thief'), "thief's annotation set back");
    await sleep(500);
    assert.equal(portEntry('victim'), victimEntry, 'victim keeps its port');
    assert.equal(annotation('victim'), victimAnn, 'victim keeps its annotation');
    assert.equal(portEntry('thief'), thiefEntry, 'thief keeps the address it was given');
    assert.deepEqual(f.podNetwork('default', 'thief')!.ip_addresses, [`${thiefEntry.split(' ')[1]}/24`]);
    assert.deepEqual(events('victim', 'AddressRequestRefused'), [], 'no refusal for the victim');
    assertNoViolations();
  });

  it('two ports on one IP left in NB (by an older watcher): on restart the older pod keeps it, the younger gets a fresh one', async () => {
    f.pod('default', 'dup-z-older', 'n1');
    await sleep(1100); // creationTimestamp has one-second resolution
    f.pod('default', 'dup-a-younger', 'n1');
    await until(() => annotation('dup-z-older') && annotation('dup-a-younger'), 10000, 'both annotated');
    const olderEntry = portEntry('dup-z-older')!;
    const olderAnn = annotation('dup-z-older')!;
    await w.kill('SIGKILL');
    const younger = f.lsp('default_dup-a-younger')!;
    // Two ports on one address, which the watcher must resolve however it arose: the younger pod's port and
    // annotation carry the older pod's address.
    await f.nb.transact([f.nb.op.update('Logical_Switch_Port', [['_uuid', '==', younger._uuid]], { addresses: [olderEntry], port_security: [olderEntry] })]);
    setAnnotation('dup-a-younger', olderAnn);
    w = f.startWatcher();
    const fresh = await until(() => {
      const e = portEntry('dup-a-younger');
      return e && e !== olderEntry && annotation('dup-a-younger') !== olderAnn && e;
    }, 20000, 'the younger pod moved to a fresh address');
    assert.equal(portEntry('dup-z-older'), olderEntry, 'the older pod keeps its address');
    assert.equal(annotation('dup-z-older'), olderAnn);
    assert.deepEqual(f.podNetwork('default', 'dup-a-younger')!.ip_addresses, [`${fresh.split(' ')[1]}/24`]);
    assert.match(w.log(), /port default_dup-a-younger: address \S+ not rebuilt \(\S+ is already allocated to default\/dup-z-older\)/);
    await until(() => events('dup-a-younger', 'PodNetworksAnnotationRestored')[0], 5000, 'an Event on the younger pod');
    assertNoViolations();
  });

  it('refuses multicast, broadcast, malformed and taken MAC requests and excluded IP requests, with an Event and no port', async () => {
    const base = f.ls('n1')!.other_config.subnet.replace(/0\/24$/, '');
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['mac-mcast', { 'ovn.kubernetes.io/mac_address': '01:00:5e:00:00:01' }, /mac_address="01:00:5e:00:00:01" is a multicast or broadcast MAC/],
      ['mac-bcast', { 'ovn.kubernetes.io/mac_address': 'ff:ff:ff:ff:ff:ff' }, /is a multicast or broadcast MAC/],
      ['mac-cidr', { 'ovn.kubernetes.io/mac_address': '02:00:00:00:00:65 10.244.0.0/16' }, /is not a MAC address/],
      ['mac-zero', { 'ovn.kubernetes.io/mac_address': '00:00:00:00:00:00' }, /is the all-zero MAC/],
      ['ip-gw', { 'ovn.kubernetes.io/ip_address': `${base}1` }, /reserved in subnet .* \(network, gateway, management or broadcast\)/],
      ['ip-mgmt', { 'ovn.kubernetes.io/ip_address': `${base}2` }, /reserved in subnet/],
      ['ip-bcast', { 'ovn.kubernetes.io/ip_address': `${base}255` }, /reserved in subnet/],
      ['ip-foreign', { 'ovn.kubernetes.io/ip_address': '10.244.250.7' }, /10\.244\.250\.7 is not in subnet/],
      ['ip-taken', { 'ovn.kubernetes.io/ip_address': ipOf('dup-z-older')! }, /is already allocated to default\/dup-z-older/],
    ];
    for (const [name, annotations] of cases) f.pod('default', name, 'n1', { annotations });
    for (const [name, , re] of cases) {
      const ev = await until(() => events(name, 'AddressRequestRefused')[0], 10000, `a refusal Event on ${name}`);
      assert.equal(ev.type, 'Warning');
      assert.match(String(ev.message), re, name);
      assert.equal(f.lsp(`default_${name}`), undefined, `${name} has no port`);
      assert.equal(annotation(name), undefined, `${name} is not annotated`);
    }
    // Two pods asking for one MAC at once: one gets it, the other a refusal (two ports with one MAC on a switch
    // would split that MAC's traffic between them).
    f.pod('default', 'mac-1', 'n1', { annotations: { 'ovn.kubernetes.io/mac_address': '02:00:00:00:07:01' } });
    f.pod('default', 'mac-2', 'n1', { annotations: { 'ovn.kubernetes.io/mac_address': '02:00:00:00:07:01' } });
    const [winner, loser] = await until(() => {
      const got = ['mac-1', 'mac-2'].filter((n) => f.lsp(`default_${n}`));
      const refusedOne = ['mac-1', 'mac-2'].filter((n) => events(n, 'AddressRequestRefused').length);
      return got.length + refusedOne.length === 2 && [...got, ...refusedOne];
    }, 10000, 'mac-1 and mac-2 settled');
    assert.notEqual(winner, loser, 'exactly one of them gets a port');
    assert.match(String(events(loser, 'AddressRequestRefused')[0].message), new RegExp(`"02:00:00:00:07:01" is already used by (port default_${winner}|pod default/${winner})`));
    assert.equal(f.lsp(`default_${loser}`), undefined);
    // A refused pod's forged annotation is removed, not left for the agent to wire.
    setAnnotation('mac-mcast', annotation('dup-z-older')!);
    await until(() => annotation('mac-mcast') === undefined, 10000, "mac-mcast's forged annotation removed");
    assertNoViolations();
  });
});
