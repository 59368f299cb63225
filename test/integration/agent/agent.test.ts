// tessera-agent against real OVS/OVN (userspace datapath) and the Kubernetes API test server, driven through
// the shim<->agent protocol on its unix socket. Needs root and dist/bin/tessera-agent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { alive, readPid } from '../../../lab/daemon.js';
import { waitFor } from '../../../lab/wait.js';
import { patchKeysInto } from '../../../lib/ovn/patch-flows.js';
import { useAgentFixture, GATEWAY, NODE, type TestPod } from './fixture.js';
import { ok, err } from './answers.js';
import { nodePath } from '../../../lab/kube.js';
import { NODE_MGMT_MAC_ANNOTATION } from '../../../lib/kube/annotations.js';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { cnitool, containerdCniArgs, writeNodeConflist } from '../../../lab/cni.js';
import { cnitoolContainerId } from '../../../lab/pods.js';
import { REPO_ROOT } from '../../../lab/paths.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CNI_BIN = join(REPO_ROOT, 'dist', 'bin', 'tessera-cni');

describe('tessera-agent (integration, real OVS/OVN)', function () {
  this.timeout(120_000);
  const f = useAgentFixture();
  let a: TestPod;
  let b: TestPod;

  it('serves the CNI socket root-only and answers STATUS "not available" before node init', async () => {
    await waitFor('the CNI socket', () => f.request({ command: 'STATUS' }).then(() => true, () => false), 20_000);
    assert.equal(statSync(f.cniSocket).mode & 0o777, 0o600);
    const r = err(await f.request({ command: 'STATUS' }));
    assert.equal(r.code, 50);
    assert.match(r.msg, /not ready/);
    assert.equal(await f.health('/healthz'), 200);
    assert.equal(await f.health('/readyz'), 503);
  });

  it('node init: announces the management port MAC on its Node, configures k8s-n1, ready once ovn-controller binds it', async () => {
    await f.annotateNode(); // the scripted watcher creates k8s-n1 from the announced MAC
    await waitFor('readyz', async () => (await f.health('/readyz')) === 200, 60_000);
    ok(await f.request({ command: 'STATUS' }));
    const node = await f.kube.get(nodePath(NODE));
    assert.equal(node.metadata.annotations?.[NODE_MGMT_MAC_ANNOTATION], '0a:58:0a:f4:01:02');
    assert.equal(await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'type']), 'internal');
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'mac'])).replaceAll('"', ''), '0a:58:0a:f4:01:02');
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'external_ids:ovn-installed'])).replaceAll('"', ''), 'true');
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'external_ids:iface-id'])).replaceAll('"', ''), `k8s-${NODE}`);
    const addr = await f.inNs(f.nodeNs, 'ip', ['-4', '-o', 'addr', 'show', 'dev', `k8s-${NODE}`]);
    assert.match(addr, /10\.244\.1\.2\/24/);
    const routes = await f.inNs(f.nodeNs, 'ip', ['-4', 'route', 'show', 'dev', `k8s-${NODE}`]);
    assert.match(routes, /10\.244\.0\.0\/16 via 10\.244\.1\.1/);
    assert.match(routes, /10\.96\.0\.0\/16 via 10\.244\.1\.1/);
  });

  it('ADD wires two pods: addresses, routes, OVS ports with the contract external_ids, ovn-installed', async () => {
    a = await f.makePod('pod-a');
    b = await f.makePod('pod-b');
    for (const p of [a, b]) {
      const t0 = performance.now();
      const r = ok(await f.request(f.addRequest(p)));
      const ms = performance.now() - t0;
      process.stderr.write(`      ADD ${p.name}: ${ms.toFixed(1)} ms (incl. ovn-installed)\n`);
      assert.equal(r.result?.ips?.[0]?.address, `${p.ip}/24`);
      assert.equal(r.result?.ips?.[0]?.gateway, GATEWAY);
      assert.equal(r.result?.ips?.[0]?.interface, 1);
      assert.deepEqual(r.result?.interfaces?.[1], { name: 'eth0', mac: p.mac, mtu: 1400, sandbox: p.netnsPath });
      assert.equal(r.result?.interfaces?.[0]?.name, p.hostVeth);
      assert.deepEqual(r.result?.routes, [{ dst: '0.0.0.0/0', gw: GATEWAY }, { dst: '10.96.0.0/16', gw: GATEWAY }]);
      const ids = (await f.vsctl(['get', 'Interface', p.hostVeth, 'external_ids'])).replaceAll('"', '');
      for (const kv of [`iface-id=default_${p.name}`, `attached_mac=${p.mac}`, `ip_addresses=${p.ip}/24`, `sandbox=${p.containerId}`, `iface-id-ver=${p.uid}`, `tessera.io/ifname=eth0`, `ovn-installed=true`]) {
        assert.ok(ids.includes(kv), `${kv} missing in ${ids}`);
      }
      const inPod = await f.inNs(p.netns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(inPod, new RegExp(`${p.ip.replaceAll('.', '\\.')}/24`));
      assert.match(await f.inNs(p.netns, 'ip', ['route']), /default via 10\.244\.1\.1 dev eth0/);
      assert.match(await f.inNs(p.netns, 'ethtool', ['-k', 'eth0']), /tx-checksumming: off/);
    }
  });

  it('pods ping and TCP-connect each other through OVN; the node reaches a pod through the management port', async () => {
    await f.inNs(a.netns, 'ping', ['-c', '2', '-W', '2', b.ip]);
    const server = spawn('ip', ['netns', 'exec', b.netns, 'timeout', '10', 'nc', '-l', '-p', '8080'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    server.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const closed = new Promise((r) => server.on('close', r));
    await new Promise((r) => setTimeout(r, 300));
    await f.inNs(a.netns, 'sh', ['-c', `echo hello-from-a | nc -N -w 3 ${b.ip} 8080`]);
    await closed;
    assert.equal(got.trim(), 'hello-from-a');
    await f.inNs(f.nodeNs, 'ping', ['-c', '2', '-W', '2', a.ip]);
  });

  it('repairs the patch flow OVN 23.03 leaves stale when a router port is re-keyed; the gateway answers again', async () => {
    const key = async (port: string) => Number((await f.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Port_Binding', `logical_port=${port}`])).trim());
    const dp = Number((await f.sbctl(['--bare', '--columns=tunnel_key', 'find', 'Datapath_Binding', `external_ids:name=${NODE}`])).trim());
    const before = await key(`stor-${NODE}`);
    assert.deepEqual(patchKeysInto(await f.table65(), dp), [before], 'the router enters the node switch as stor-n1');
    const rekey = before + 40;
    await f.nbctl(['set', 'Logical_Switch_Port', `stor-${NODE}`, `options:requested-tnl-key=${rekey}`]);
    await waitFor('SB re-key of stor-n1', async () => (await key(`stor-${NODE}`)) === rekey, 10_000);
    // ovn-controller keeps loading the old key (the bug); the agent's watchdog sees it and has it recompute.
    await waitFor('the patch flow to carry the new key', async () => {
      const keys = patchKeysInto(await f.table65(), dp);
      return keys.length === 1 && keys[0] === rekey;
    }, 30_000, 250);
    assert.match(f.agentLog(), /stale logical patch flows \(datapath \d+ entered as port \d+\)/);
    await f.inNs(a.netns, 'ping', ['-c', '2', '-W', '2', GATEWAY]);
  });

  it('through the real shim: cnitool ADD/CHECK/DEL with tessera-cni chained with portmap', async function () {
    if (!existsSync(CNI_BIN)) this.skip();
    const conf = writeNodeConflist({ dir: f.dir, network: 'tessera', agentSocket: f.cniSocket, logFile: join(f.dir, 'cni.log'), mtu: 1400 });
    const c = await f.makePod('pod-cnitool');
    const cniArgs = containerdCniArgs({ sandboxId: cnitoolContainerId(c.netnsPath), uid: c.uid, namespace: c.namespace, name: c.name });
    const run = (verb: 'add' | 'check' | 'del') => cnitool({ verb, nodeNetns: f.nodeNs, conf, binDir: join(REPO_ROOT, 'dist', 'bin'), netnsPath: c.netnsPath, cniArgs });
    const res = await run('add');
    assert.equal(res?.ips?.[0]?.address, `${c.ip}/24`);
    const veth = hostVethName(cnitoolContainerId(c.netnsPath), 'eth0');
    assert.ok(await f.ovsPortExists(veth), `OVS port ${veth} missing`);
    await f.inNs(c.netns, 'ping', ['-c', '2', '-W', '2', a.ip]);
    await run('check');
    await run('del');
    await run('del');
    assert.equal(await f.ovsPortExists(veth), false);
    assert.equal(await f.linkExists(f.nodeNs, veth), false);
  });

  it('CHECK passes for a wired pod and fails naming what is missing', async () => {
    const add = ok(await f.request(f.addRequest(a, { command: 'ADD' }))); // ADD again for the same attachment: rewired, same result
    ok(await f.request({ ...f.addRequest(a), command: 'CHECK', prevResult: add.result }));
    await f.inNs(a.netns, 'ip', ['route', 'del', '10.96.0.0/16']);
    const r = err(await f.request({ ...f.addRequest(a), command: 'CHECK', prevResult: add.result }));
    assert.match(r.msg, /route 10\.96\.0\.0\/16 via 10\.244\.1\.1 is missing/);
    await f.inNs(a.netns, 'ip', ['route', 'add', '10.96.0.0/16', 'via', GATEWAY]);
    await f.inNs(a.netns, 'ping', ['-c', '1', '-W', '2', b.ip]);
  });

  it('a failed ADD leaves nothing behind: annotation never arrives (timeout), bad netns path', async () => {
    const c = await f.makePod('pod-late', { annotate: false });
    const r1 = err(await f.request(f.addRequest(c, { config: { annotationTimeoutMs: 500, ovnInstalledTimeoutMs: 5000 } })));
    assert.equal(r1.code, 11);
    assert.match(r1.msg, /annotation tessera\.io\/pod-networks not set within 500 ms/);
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false);
    assert.equal(await f.interfaceExists(c.hostVeth), false);

    await f.annotatePod(c);
    const r2 = err(await f.request(f.addRequest(c, { netns: '/var/run/netns/tag-does-not-exist' })));
    assert.equal(r2.code, 4);
    assert.equal(r2.msg, 'CNI_NETNS /var/run/netns/tag-does-not-exist is not a network namespace (ENOENT)');
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false);
    assert.equal(await f.interfaceExists(c.hostVeth), false);

    // ovn-installed never comes for a port whose LSP does not exist: the veth and the OVS port are undone.
    const d = await f.makePod('pod-nolsp', { annotate: false });
    await f.kube.patch(`/api/v1/namespaces/default/pods/${d.name}`, {
      metadata: { annotations: { 'tessera.io/pod-networks': JSON.stringify({ default: { ip_addresses: [`${d.ip}/24`], mac_address: d.mac, gateway_ips: [GATEWAY], routes: [], logical_switch: NODE } }) } },
    });
    const r3 = err(await f.request(f.addRequest(d, { config: { annotationTimeoutMs: 2000, ovnInstalledTimeoutMs: 1500 } })));
    assert.equal(r3.code, 11);
    assert.match(r3.msg, /ovn-installed/);
    assert.equal(await f.linkExists(f.nodeNs, d.hostVeth), false);
    assert.equal(await f.interfaceExists(d.hostVeth), false);
    assert.equal(await f.linkExists(d.netns, 'eth0'), false);
  });

  it('DEL is idempotent: three times, and with an empty netns', async () => {
    const c = await f.makePod('pod-del');
    ok(await f.request(f.addRequest(c)));
    assert.ok(await f.ovsPortExists(c.hostVeth));
    for (let i = 0; i < 3; i++) ok(await f.request({ ...f.addRequest(c), command: 'DEL' }));
    assert.equal(await f.ovsPortExists(c.hostVeth), false);
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false);
    assert.equal(await f.linkExists(c.netns, 'eth0'), false);

    const d = await f.makePod('pod-del2');
    ok(await f.request(f.addRequest(d)));
    await f.inNs(d.netns, 'true', []); // the runtime removes the netns before DEL: simulate with an empty CNI_NETNS
    ok(await f.request({ ...f.addRequest(d), command: 'DEL', netns: '' }));
    assert.equal(await f.ovsPortExists(d.hostVeth), false);
    assert.equal(await f.linkExists(f.nodeNs, d.hostVeth), false);
  });

  it('GC removes ports of attachments the runtime no longer lists, keeps the listed ones', async () => {
    const c = await f.makePod('pod-gc');
    ok(await f.request(f.addRequest(c)));
    ok(await f.request({ command: 'GC', validAttachments: [a, b].map((p) => ({ containerId: p.containerId, ifname: 'eth0' })) }));
    assert.equal(await f.ovsPortExists(c.hostVeth), false);
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false);
    assert.ok(await f.ovsPortExists(a.hostVeth));
    assert.ok(await f.ovsPortExists(b.hostVeth));
  });

  it('reconcile removes the port of a pod deleted from the API and keeps live ones', async () => {
    const c = await f.makePod('pod-gone');
    ok(await f.request(f.addRequest(c)));
    await f.deletePodObject(c);
    await waitFor('reconcile to remove the orphan port', async () => !(await f.ovsPortExists(c.hostVeth)), 15_000);
    assert.equal(await f.linkExists(f.nodeNs, c.hostVeth), false);
    assert.ok(await f.ovsPortExists(a.hostVeth));
    assert.ok(await f.ovsPortExists(b.hostVeth));
  });

  it('reconcile removes a veth of ours that lost its OVS port (an ADD that died half-way), and no other veth', async () => {
    await f.inNs(f.nodeNs, 'ip', ['link', 'add', 'veth0123456789a', 'type', 'veth', 'peer', 'name', 'tagx0']);
    await f.inNs(f.nodeNs, 'ip', ['link', 'add', 'vethkeep1', 'type', 'veth', 'peer', 'name', 'tagx1']);
    await waitFor('reconcile to remove the orphan veth', async () => !(await f.linkExists(f.nodeNs, 'veth0123456789a')), 15_000);
    assert.ok(await f.linkExists(f.nodeNs, 'vethkeep1'));
    assert.ok(await f.linkExists(f.nodeNs, a.hostVeth));
    await f.inNs(f.nodeNs, 'ip', ['link', 'del', 'vethkeep1']);
  });

  it("a pod's OVS port deleted by hand, or its iface-id edited, is restored within 5 s and the pod talks again", async () => {
    const ifaceId = async () => (await f.vsctl(['get', 'Interface', a.hostVeth, 'external_ids:iface-id']).catch(() => '')).trim().replaceAll('"', '');
    for (const [what, args] of [
      ['OVS port deleted', ['del-port', 'br-int', a.hostVeth]],
      ['iface-id edited', ['set', 'Interface', a.hostVeth, 'external_ids:iface-id=someone_else']],
    ] as const) {
      const t0 = Date.now();
      await f.vsctl([...args]);
      await waitFor(`${what}: restored`, async () => (await f.ovsPortExists(a.hostVeth)) && (await ifaceId()) === `default_${a.name}`, 10_000);
      const ms = Date.now() - t0;
      process.stderr.write(`      ${what}: restored in ${ms} ms\n`);
      assert.ok(ms < 5000, `${what}: restored in ${ms} ms, goal < 5000 ms`);
    }
    assert.match(f.agentLog(), /OVS drift repaired: pod port .* \(port deleted\)/);
    await waitFor('pod-a pings pod-b again', async () => f.inNs(a.netns, 'ping', ['-c', '1', '-W', '1', b.ip]).then(() => true, () => false), 15_000);
    assert.ok(await f.linkExists(f.nodeNs, a.hostVeth), 'the veth was kept, not swept as an orphan');
  });

  it('survives a restart of the node OVS database: the client reconnects and ADD works again', async () => {
    await f.restartNodeOvsdb();
    await waitFor('STATUS ok after the OVSDB restart', async () => (await f.request({ command: 'STATUS' })).ok, 30_000);
    const c = await f.makePod('pod-after-ovsdb');
    ok(await f.request(f.addRequest(c)));
    await f.inNs(c.netns, 'ping', ['-c', '2', '-W', '2', a.ip]);
    ok(await f.request({ ...f.addRequest(c), command: 'DEL' }));
  });

  it('an agent restart does not disturb running pods: continuous ping loses nothing significant', async () => {
    const ping = spawn('ip', ['netns', 'exec', a.netns, 'ping', '-i', '0.05', '-w', '8', '-W', '1', b.ip], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ping.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise((r) => ping.on('close', r));
    await new Promise((r) => setTimeout(r, 1000));
    await f.stopAgent();
    f.startAgent();
    await waitFor('readyz after restart', async () => (await f.health('/readyz')) === 200, 30_000);
    await done;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    assert.ok(m, `ping summary missing: ${out.slice(-300)}`);
    const [sent, recv] = [Number(m[1]), Number(m[2])];
    process.stderr.write(`      ping across restart: ${recv}/${sent}\n`);
    assert.ok(sent >= 50 && recv >= sent - 2, `lost ${sent - recv} of ${sent}`);
    assert.ok(await f.ovsPortExists(a.hostVeth));
    ok(await f.request({ command: 'STATUS' }));
    await f.inNs(f.nodeNs, 'ping', ['-c', '1', '-W', '2', b.ip]); // the management port survived node init's re-run
  });

  it('reads its API token from a 0600 file: the token is not on its command line', async () => {
    const pid = readPid(join(f.agentDir, 'tessera-agent.pid'));
    assert.ok(pid !== undefined && alive(pid));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // Its own service account's token (held to deploy/agent/rbac.yaml by the double), not the admin's.
    const tokenFile = f.api.serviceAccountTokenFiles['tessera-agent'];
    const token = readFileSync(tokenFile, 'utf8');
    assert.equal(cmdline[cmdline.indexOf('--kube-token-file') + 1], tokenFile, cmdline.join(' '));
    assert.ok(!cmdline.some((arg) => arg.includes(token) || arg.includes(f.api.token)), `token on the command line: ${cmdline.join(' ')}`);
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const apiPid = readPid(join(f.dir, 'api', 'apiserver.pid'));
    const apiCmdline = apiPid !== undefined ? readFileSync(`/proc/${apiPid}/cmdline`, 'utf8') : '';
    assert.ok(apiPid !== undefined && !apiCmdline.includes(f.api.token) && !apiCmdline.includes(token), 'nor on the API double\'s');
  });

  it('/readyz is 503 naming ovn-controller while it is dead, 200 once it is back and connected', async () => {
    await waitFor('ready', async () => (await f.health('/readyz')) === 200, 30_000);
    await f.killOvnController();
    let down = { status: 0, body: '' };
    await waitFor('/readyz 503', async () => (down = await f.healthAnswer('/readyz')).status === 503, 10_000);
    assert.match(down.body, /^not ready: ovn-controller not (answering|running)/);
    await f.startOvnController();
    await waitFor('/readyz 200 after ovn-controller restarted', async () => (await f.health('/readyz')) === 200, 30_000);
    const c = await f.makePod('pod-after-ovn-controller');
    ok(await f.request(f.addRequest(c)));
    await f.inNs(c.netns, 'ping', ['-c', '2', '-W', '2', a.ip]);
    ok(await f.request({ ...f.addRequest(c), command: 'DEL' }));
  });
});
