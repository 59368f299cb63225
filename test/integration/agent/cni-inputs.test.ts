// tessera-agent refuses inputs it must not trust (CNI_NETNS naming the node's own netns or no netns at all, a
// pod-networks annotation this node cannot carry), serialises ADDs of one attachment, and CHECK fails for a pod
// that is not really wired. Real OVS/OVN and the API test double; needs root and dist/bin/tessera-agent.
// No request here ever names the root netns (/proc/1/ns/net): the agent runs in a tag- netns, and "its own"
// netns is that one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../../lab/wait.js';
import { podPath } from '../../../lab/kube.js';
import { POD_NETWORKS_ANNOTATION, type PodNetwork } from '../../../lib/kube/annotations.js';
import type { AgentOk, Result1x } from '../../../lib/cni-protocol.js';
import { useAgentFixture, GATEWAY, NODE, type TestPod } from './fixture.js';
import { ok, err } from './answers.js';

describe('tessera-agent input checks and serialisation (integration, real OVS/OVN)', function () {
  this.timeout(120_000);
  let a: TestPod;
  const f = useAgentFixture(async (f) => {
    await f.startReadyAgent();
    a = await f.makePod('pod-a');
    ok(await f.request(f.addRequest(a)));
  });

  /** Nothing of the attachment exists: no host veth, no OVS interface, no eth0 in the pod or the node netns. */
  const nothingWired = async (p: TestPod): Promise<void> => {
    assert.equal(await f.linkExists(f.nodeNs, p.hostVeth), false, 'host veth');
    assert.equal(await f.interfaceExists(p.hostVeth), false, 'OVS interface');
    assert.equal(await f.linkExists(p.netns, 'eth0'), false, 'eth0 in the pod');
    assert.equal(await f.linkExists(f.nodeNs, 'eth0'), false, 'eth0 in the node netns');
  };

  const annotate = (p: TestPod, net: Partial<PodNetwork>) => f.kube.patch(podPath(p.namespace, p.name), {
    metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: JSON.stringify({ default: { ip_addresses: [`${p.ip}/24`], mac_address: p.mac, gateway_ips: [GATEWAY], routes: [], logical_switch: NODE, ...net } }) } },
  });

  it('refuses a CNI_NETNS that is the node\'s own netns, by any name, with code 4 and wires nothing', async () => {
    const c = await f.makePod('pod-netns');
    const routesBefore = await f.inNs(f.nodeNs, 'ip', ['-4', 'route']);
    for (const path of ['/proc/self/ns/net', '/proc/thread-self/ns/net', `/var/run/netns/${f.nodeNs}`]) {
      const r = err(await f.request(f.addRequest(c, { netns: path })));
      assert.equal(r.code, 4, r.msg);
      assert.match(r.msg, new RegExp(`^CNI_NETNS ${path} is the node's own network namespace`));
      await nothingWired(c);
    }
    assert.equal(await f.inNs(f.nodeNs, 'ip', ['-4', 'route']), routesBefore, 'the node netns routes are untouched');
    ok(await f.request(f.addRequest(c)));
  });

  it('refuses a CNI_NETNS that is no network namespace with a clear error, not a netlink errno', async () => {
    const c = await f.makePod('pod-notns');
    const file = join(f.dir, 'not-a-netns');
    writeFileSync(file, '');
    const cases: [string, string][] = [
      [file, 'a regular file'], [f.dir, 'a directory'], ['/var/run/netns/tag-does-not-exist', 'ENOENT'], ['/proc/self/ns/uts', 'a namespace of another kind'],
    ];
    for (const [path, why] of cases) {
      const r = err(await f.request(f.addRequest(c, { netns: path })));
      assert.equal(r.code, 4, r.msg);
      assert.equal(r.msg, `CNI_NETNS ${path} is not a network namespace (${why})`);
      await nothingWired(c);
    }
  });

  it('does not wire another pod\'s address, a foreign gateway, an address outside the node subnet or a multicast MAC', async () => {
    // Created without an annotation: with a valid one first, an ADD racing the bad patch through the informer could wire it.
    const c = await f.makePod('pod-badann', { annotate: false });
    const cfg = { annotationTimeoutMs: 1500, ovnInstalledTimeoutMs: 5000 };
    const bad: [Partial<PodNetwork>, string][] = [
      [{ ip_addresses: [`${a.ip}/24`] }, `ip address ["${a.ip}/24"] is already wired for pod port default_pod-a on this node`],
      [{ gateway_ips: ['10.244.1.254'] }, 'gateway "10.244.1.254" is not the node subnet\'s gateway 10.244.1.1'],
      [{ ip_addresses: ['10.244.2.50/24'] }, 'ip address "10.244.2.50/24" is outside the node subnet 10.244.1.0/24'],
      [{ mac_address: '01:00:5e:00:00:01' }, 'mac_address "01:00:5e:00:00:01" is a multicast MAC'],
    ];
    for (const [net, why] of bad) {
      await annotate(c, net);
      const r = err(await f.request(f.addRequest(c, { config: cfg })));
      assert.equal(r.code, 100, r.msg);
      assert.equal(r.msg, `pod default/${c.name}: annotation ${POD_NETWORKS_ANNOTATION}: ${why} (not corrected within 1500 ms)`);
      await nothingWired(c);
    }
  });

  it('keeps waiting while the annotation is bad and wires the corrected one', async () => {
    const c = await f.makePod('pod-fixed', { annotate: false });
    await annotate(c, { ip_addresses: ['10.244.9.9/24'] });
    const add = f.request(f.addRequest(c, { config: { annotationTimeoutMs: 15_000, ovnInstalledTimeoutMs: 10_000 } }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false, 'nothing wired for the bad value');
    await f.annotatePod(c); // what the watcher does: its own allocation again
    const r = ok(await add);
    assert.equal(r.result?.ips?.[0]?.address, `${c.ip}/24`);
    await f.inNs(c.netns, 'ping', ['-c', '1', '-W', '2', a.ip]);
  });

  /** The OVS port, the host veth and the pod's eth0 are one live wire: ifindex and veth peers agree. */
  const wiring = async (p: TestPod) => {
    const hostLinks = (await f.inNs(f.nodeNs, 'ip', ['-o', 'link', 'show', 'type', 'veth'])).split('\n').filter((l) => l.includes(`${p.hostVeth}@`));
    const podLinks = (await f.inNs(p.netns, 'ip', ['-o', 'link', 'show'])).split('\n').filter((l) => !/ lo:/.test(l));
    const host = /^(\d+): [^@]+@if(\d+)/.exec(hostLinks[0] ?? '');
    const pod = /^(\d+): eth0@if(\d+)/.exec(podLinks[0] ?? '');
    const ofport = Number(await f.vsctl(['get', 'Interface', p.hostVeth, 'ofport']));
    const ifindex = Number(await f.vsctl(['get', 'Interface', p.hostVeth, 'ifindex']));
    return { hostLinks, podLinks, host, pod, ofport, ifindex };
  };

  it('4 parallel ADDs of one attachment: one veth, the OVS port bound to it and peered with the pod\'s eth0, traffic flows, CHECK passes', async () => {
    const c = await f.makePod('pod-par');
    const rs = await Promise.all([1, 2, 3, 4].map(() => f.request(f.addRequest(c))));
    const oks = rs.filter((r): r is AgentOk => r.ok);
    assert.ok(oks.length >= 1, `no ADD succeeded: ${JSON.stringify(rs)}`);
    const w = await wiring(c);
    const answers = rs.map((r) => (r.ok ? 'ok' : `${r.code}: ${r.msg}`)).join('; ');
    assert.equal(w.hostLinks.length, 1, `host veths: ${w.hostLinks.join(' | ')}; the ADDs answered: ${answers}`);
    assert.equal(w.podLinks.length, 1, `pod links: ${w.podLinks.join(' | ')}`);
    assert.ok(w.host && w.pod, `${w.hostLinks[0]} / ${w.podLinks[0]}`);
    assert.equal(w.pod[2], w.host[1], 'the pod eth0 is peered with the host veth');
    assert.equal(w.host[2], w.pod[1], 'the host veth is peered with the pod eth0');
    assert.ok(w.ofport > 0, `ofport ${w.ofport}`);
    assert.equal(w.ifindex, Number(w.host[1]), 'vswitchd is bound to the live host veth');
    await f.inNs(c.netns, 'ping', ['-c', '2', '-W', '2', GATEWAY]);
    await f.inNs(c.netns, 'ping', ['-c', '1', '-W', '2', a.ip]);
    const prevResult = oks[oks.length - 1].result as Result1x;
    ok(await f.request({ ...f.addRequest(c), command: 'CHECK', prevResult }));
    await f.inNs(f.nodeNs, 'ip', ['link', 'del', c.hostVeth]);
    const r = err(await f.request({ ...f.addRequest(c), command: 'CHECK', prevResult }));
    assert.match(r.msg, /interface is missing/);
  });

  it('CHECK fails when the pod\'s eth0 looks right but is not the OVS port\'s veth peer (and indeed cannot talk)', async () => {
    const c = await f.makePod('pod-fake');
    const prevResult = ok(await f.request(f.addRequest(c))).result as Result1x;
    ok(await f.request({ ...f.addRequest(c), command: 'CHECK', prevResult }));
    // Replace the pod end by an unconnected veth with the same name, MAC, MTU, address and routes; the host veth
    // keeps its name and gets a new peer that is not in the pod.
    await f.inNs(f.nodeNs, 'ip', ['link', 'del', c.hostVeth]);
    await f.inNs(f.nodeNs, 'ip', ['link', 'add', c.hostVeth, 'type', 'veth', 'peer', 'name', 'tagpeer0']);
    await f.inNs(f.nodeNs, 'ip', ['link', 'set', c.hostVeth, 'up']);
    await f.inNs(c.netns, 'ip', ['link', 'add', 'eth0', 'mtu', '1400', 'address', c.mac, 'type', 'veth', 'peer', 'name', 'tagjunk0']);
    await f.inNs(c.netns, 'ip', ['addr', 'add', `${c.ip}/24`, 'dev', 'eth0']);
    await f.inNs(c.netns, 'ip', ['link', 'set', 'eth0', 'up']);
    await f.inNs(c.netns, 'ip', ['route', 'add', 'default', 'via', GATEWAY]);
    await f.inNs(c.netns, 'ip', ['route', 'add', '10.96.0.0/16', 'via', GATEWAY]);
    await waitFor('ovn-installed back on the port', async () => (await f.vsctl(['get', 'Interface', c.hostVeth, 'external_ids:ovn-installed'])).includes('true'), 10_000);
    await assert.rejects(f.inNs(c.netns, 'ping', ['-c', '1', '-W', '1', GATEWAY]), 'the fake eth0 is not connected');
    const r = err(await f.request({ ...f.addRequest(c), command: 'CHECK', prevResult }));
    assert.equal(r.code, 100);
    assert.match(r.msg, new RegExp(`host veth ${c.hostVeth} \\(ifindex \\d+, peer \\d+\\) is not the peer of eth0`));
  });
});
