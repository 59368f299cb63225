// Conformance of the tessera-cni SHIM through the reference client (cnitool, libcni 1.1.2), chained with
// the reference `tuning` and `portmap` plugins so that they consume our result. The agent side is
// FakeAgent (a test double): this tests the shim, not the data path. cnitool runs inside a node netns
// (tcn-n*) made here, pods are netns tcn-p*; nothing touches the root netns.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostVethName } from '../../../lib/cni-protocol.js';
import { FakeAgent } from './fake-agent.js';
import { addNetns, cnitool, delNetns, execShim, requireBuilt, sh, succeeds, tmpDir, type Cnitool } from '../../../testkit/cni.js';

const TUNING_MAC = '0a:58:0a:63:00:fe';
const CONTAINERD_ARGS = 'K8S_POD_INFRA_CONTAINER_ID=sandbox1;K8S_POD_UID=uid-1;IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0';
const CONTAINERD_PORTS = { portMappings: [{ HostPort: 18081, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }] };

interface PrintedResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string; mtu?: number }[];
  ips: { version?: string; address: string; gateway?: string; interface?: number }[];
  routes: { dst: string; gw?: string }[];
  dns: object;
}

for (const version of ['1.0.0', '0.4.0']) {
  describe(`cni shim via cnitool, cniVersion ${version}, chained with tuning + portmap (FakeAgent)`, function () {
    this.timeout(60_000);
    const tag = `${process.pid % 100000}${version === '0.4.0' ? 'a' : 'b'}`;
    const nodeNs = `tcn-n${tag}`;
    const podNs = `tcn-p${tag}`;
    const net = `tcn-net-${tag}`;
    const dir = tmpDir(`tcn-shim-${version}-`);
    const logFile = join(dir, 'cni.log');
    const agent = new FakeAgent(join(dir, 'agent.sock'), nodeNs);
    let podPath = '';
    let tool: Cnitool;
    let added: PrintedResult;

    before(async () => {
      requireBuilt();
      mkdirSync(dir, { recursive: true });
      await delNetns(podNs);
      await delNetns(nodeNs);
      await addNetns(nodeNs);
      podPath = await addNetns(podNs);
      await agent.start();
      tool = cnitool(join(dir, 'net.d'));
      tool.conflist(net, version, [
        { type: 'tessera-cni', agentSocket: agent.socketPath, logFile, annotationTimeoutMs: 2000, ovnInstalledTimeoutMs: 2000, mtu: 1400, capabilities: { portMappings: true } },
        { type: 'tuning', mac: TUNING_MAC, mtu: 1300, sysctl: { 'net.ipv4.conf.eth0.accept_redirects': '0' } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ]);
    });

    after(async () => {
      // Best effort: a DEL through the chain removes portmap's chains from the node netns before it goes.
      if (tool) await tool.run('del', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS });
      await agent.stop();
      await delNetns(podNs);
      await delNetns(nodeNs);
      rmSync(dir, { recursive: true, force: true });
    });

    it('ADD prints the result in the config version, after tuning and portmap consumed it', async () => {
      const r = await tool.run('add', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS, capArgs: CONTAINERD_PORTS });
      assert.equal(r.code, 0, `cnitool add failed: ${r.stdout} ${r.stderr}`);
      added = JSON.parse(r.stdout) as PrintedResult;
      assert.equal(added.cniVersion, version);
      const cid = agent.last('ADD')!.containerId;
      assert.deepEqual(added.interfaces.map((i) => i.name), [hostVethName(cid, 'eth0'), 'eth0']);
      assert.equal(added.interfaces[1].sandbox, podPath);
      assert.equal(added.interfaces[0].sandbox, undefined, 'host side has no sandbox');
      assert.equal(added.interfaces[1].mac, TUNING_MAC, 'tuning found our eth0 entry in the result and updated its mac');
      assert.equal(added.ips.length, 1);
      const ip = added.ips[0];
      assert.match(ip.address, /^10\.99\.0\.\d+\/24$/);
      assert.equal(ip.gateway, '10.99.0.1');
      assert.equal(ip.interface, 1);
      if (version === '0.4.0') assert.equal(ip.version, '4');
      else assert.equal(ip.version, undefined);
      assert.deepEqual(added.routes, [{ dst: '10.96.0.0/16', gw: '10.99.0.1' }]);
      assert.deepEqual(added.dns, {});
      assert.equal(added.interfaces[1].mtu, undefined, `interface mtu is a 1.1 attribute, not printed for ${version}`);
    });

    it('the pod netns got the interface, and tuning changed it (mac, mtu, sysctl)', async () => {
      const link = (JSON.parse(await sh('ip', ['-n', podNs, '-j', 'addr', 'show', 'eth0'])) as { address: string; mtu: number; addr_info: { local: string; prefixlen: number }[] }[])[0];
      assert.equal(link.address, TUNING_MAC);
      assert.equal(link.mtu, 1300);
      assert.ok(link.addr_info.some((a) => `${a.local}/${a.prefixlen}` === added.ips[0].address));
      assert.equal(await sh('ip', ['netns', 'exec', podNs, 'cat', '/proc/sys/net/ipv4/conf/eth0/accept_redirects']), '0');
    });

    it('portmap read our ips and installed the DNAT for the containerd-style port mapping', async () => {
      const nat = await sh('ip', ['netns', 'exec', nodeNs, 'iptables-save', '-t', 'nat']);
      const podIp = added.ips[0].address.split('/')[0];
      assert.match(nat, new RegExp(`--dport 18081 .*--to-destination ${podIp.replace(/\./g, '\\.')}:80`));
    });

    it('forwarded CNI_ARGS, the normalised runtimeConfig and the timeouts to the agent', () => {
      const req = agent.last('ADD')!;
      assert.equal(req.cniVersion, version);
      assert.equal(req.netns, podPath);
      assert.equal(req.ifname, 'eth0');
      assert.match(req.containerId, /^cnitool-[0-9a-f]{20}$/);
      assert.deepEqual([req.podNamespace, req.podName, req.podUid, req.sandboxId], ['default', 'web-0', 'uid-1', 'sandbox1']);
      assert.deepEqual(req.config, {
        annotationTimeoutMs: 2000,
        ovnInstalledTimeoutMs: 2000,
        mtu: 1400,
        runtimeConfig: { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp', hostIP: '' }] },
      });
    });

    it('CHECK passes the cached result to the agent as a 1.x prevResult', async () => {
      const r = await tool.run('check', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS });
      assert.equal(r.code, 0, `cnitool check failed: ${r.stdout} ${r.stderr}`);
      const prev = agent.last('CHECK')!.prevResult!;
      assert.deepEqual(prev.ips, [{ address: added.ips[0].address, gateway: '10.99.0.1', interface: 1 }], 'no ips[].version in the 1.x shape');
      assert.equal(prev.interfaces?.[1].mac, TUNING_MAC, 'the cached result is the whole chain\'s');
    });

    it('CHECK with port mappings fails in portmap 1.1.1 (containernetworking/plugins#819), after ours passed', async () => {
      const checksBefore = agent.requests.filter((q) => q.command === 'CHECK').length;
      const r = await tool.run('check', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS, capArgs: CONTAINERD_PORTS });
      assert.equal(agent.requests.filter((q) => q.command === 'CHECK').length, checksBefore + 1, 'tessera-cni CHECK ran first');
      // Documented upstream bug: should portmap ever be fixed, this assertion flips and the note can go.
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /could not check ipv6 dnat: chain CNI-DN-\w+ not found/);
    });

    it('DEL removes the interface and portmap\'s rules; a second DEL succeeds too', async () => {
      const cid = agent.last('ADD')!.containerId;
      const host = hostVethName(cid, 'eth0');
      assert.ok(await succeeds('ip', ['-n', nodeNs, 'link', 'show', host]));
      const r1 = await tool.run('del', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS, capArgs: CONTAINERD_PORTS });
      assert.equal(r1.code, 0, `${r1.stdout} ${r1.stderr}`);
      assert.equal(r1.stdout, '', 'DEL prints nothing on success');
      assert.ok(!(await succeeds('ip', ['-n', nodeNs, 'link', 'show', host])), 'host veth gone');
      assert.ok(!(await succeeds('ip', ['-n', podNs, 'link', 'show', 'eth0'])), 'pod interface gone');
      assert.doesNotMatch(await sh('ip', ['netns', 'exec', nodeNs, 'iptables-save', '-t', 'nat']), /18081/);
      const r2 = await tool.run('del', net, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS, capArgs: CONTAINERD_PORTS });
      assert.equal(r2.code, 0, `second DEL: ${r2.stdout} ${r2.stderr}`);
      assert.equal(agent.requests.filter((q) => q.command === 'DEL').length, 2);
    });

    it('DEL with an empty CNI_NETNS (containerd\'s last DEL) reaches the agent with netns ""', async () => {
      const conf = JSON.stringify({ cniVersion: version, name: net, type: 'tessera-cni', agentSocket: agent.socketPath, logFile });
      const r = await execShim({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'sandbox1', CNI_NETNS: '', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: CONTAINERD_ARGS }, conf);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stdout, '');
      const req = agent.last('DEL')!;
      assert.equal(req.netns, '');
      assert.equal(req.containerId, 'sandbox1');
    });

    it('ADD with the agent down: cnitool relays our "try again later" and the pod netns stays empty', async () => {
      tool.conflist(`${net}-down`, version, [{ type: 'tessera-cni', agentSocket: join(dir, 'down.sock'), logFile }]);
      const r = await tool.run('add', `${net}-down`, podPath, { hostNetns: nodeNs, cniArgs: CONTAINERD_ARGS });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /plugin type="tessera-cni" failed \(add\): tessera-agent is not reachable at \S+down\.sock \(ENOENT\)/);
      assert.equal((await sh('ip', ['-n', podNs, '-o', 'link', 'show'])).split('\n').length, 1, 'only lo');
    });

    it('logged one line per call with timing to logFile, nothing else on stdout', () => {
      const lines = readFileSync(logFile, 'utf8').trim().split('\n');
      assert.ok(lines.length >= 6, lines.join('\n'));
      for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\S+Z (ADD|CHECK|DEL) .* ms=\d+\.\d/);
      assert.ok(lines.some((l) => /ADD container=cnitool-\w+ ifname=eth0 pod=default\/web-0 ok ms=/.test(l)));
    });
  });
}
