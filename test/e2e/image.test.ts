// The tessera/tessera image from `make image`, run as a cluster would run it: imported by `ctr images import` into
// a containerd of the test's own (started in a lab node's netns), each component's --version run in a container,
// the archive read as a docker-archive too (docker load's format), and tessera-agent run with --net-host
// --privileged against the node's own ovsdb-server: ready, with its management port on br-int.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';
import { pinnedRuntimeVersion } from '../../tools/runtime.js';
import { imageArchivePath, imageRef } from '../../tools/image-names.js';
import { AgentFixture, NODE } from '../integration/agent/fixture.js';
import { TestContainerd } from './containerd.js';

const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NODE_VERSION = pinnedRuntimeVersion(ROOT);
const ARCHIVE = imageArchivePath(ROOT, VERSION);
const REF = `docker.io/${imageRef(VERSION)}`;

/** Each component and tool the image promises, with what its --version must say. */
const VERSIONS: Array<[string[], RegExp]> = [
  [['tessera-agent', '--version'], new RegExp(`^tessera-agent ${VERSION} \\(node v${NODE_VERSION}\\)$`)],
  [['tessera-watcher', '--version'], new RegExp(`^tessera-watcher ${VERSION} \\(node v${NODE_VERSION}\\)$`)],
  [['tessera-gateway', '--version'], new RegExp(`^tessera-gateway ${VERSION} \\(node v${NODE_VERSION}\\)$`)],
  [['tessera-cni', '--version'], new RegExp(`^tessera-cni ${VERSION}`)],
  [['ovsdb-server', '--version'], /^ovsdb-server \(Open vSwitch\) 3\./],
  [['ovs-vswitchd', '--version'], /^ovs-vswitchd \(Open vSwitch\) 3\./],
  [['ovs-vsctl', '--version'], /^ovs-vsctl \(Open vSwitch\) 3\./],
  [['ovs-ofctl', '--version'], /^ovs-ofctl \(Open vSwitch\) 3\./],
  [['ovn-controller', '--version'], /^ovn-controller 23\./],
  [['ovn-northd', '--version'], /^ovn-northd 23\./],
  [['ovn-ic', '--version'], /^ovn-ic 23\./],
  [['ovn-nbctl', '--version'], /^ovn-nbctl 23\./],
  [['ovn-sbctl', '--version'], /^ovn-sbctl 23\./],
  [['ovn-ic-nbctl', '--version'], /^ovn-ic-nbctl 23\./],
  [['ovn-ic-sbctl', '--version'], /^ovn-ic-sbctl 23\./],
  [['/usr/share/ovn/scripts/ovn-ctl', 'help'], /controls Open Virtual Network daemons/],
  [['/usr/share/openvswitch/scripts/ovs-ctl', '--help'], /controls Open vSwitch daemons/],
  [['ip', '-V'], /^ip utility, iproute2-/],
  [['ethtool', '--version'], /^ethtool version /],
];

describe('tessera/tessera image (make image)', function () {
  this.timeout(300_000);
  const f = new AgentFixture();
  let ctd: TestContainerd | undefined;

  before(async function () {
    if (!existsSync(ARCHIVE)) throw new Error(`${ARCHIVE} missing: run make image`);
    await f.start();
    ctd = new TestContainerd(f.nodeNs);
    await ctd.start();
  });

  after(async function () {
    this.timeout(60_000);
    await ctd?.stop();
    await f.teardown();
  });

  it('ctr images import names it tessera/tessera:<version>', async () => {
    await ctd!.ctr(['images', 'import', ARCHIVE], 240_000);
    assert.deepEqual((await ctd!.ctr(['images', 'list', '--quiet'])).split('\n'), [REF]);
  });

  it('the same archive is a docker-archive (what docker load reads): its manifest.json names the image and both layers', async () => {
    const docker = JSON.parse(await run('skopeo', ['inspect', `docker-archive:${ARCHIVE}`])) as { Layers: string[]; Env: string[]; Labels: Record<string, string> };
    const oci = JSON.parse(await run('skopeo', ['inspect', `oci-archive:${ARCHIVE}:${VERSION}`])) as { Layers: string[] };
    assert.equal(docker.Layers.length, 2, 'Debian layer and Tessera layer');
    assert.equal(oci.Layers.length, 2);
    assert.equal(docker.Labels['org.opencontainers.image.version'], VERSION);
    assert.ok(docker.Env.some((e) => e.startsWith('PATH=') && e.includes('/usr/local/bin')));
    const manifest = JSON.parse(await run('tar', ['-xOf', ARCHIVE, 'manifest.json'])) as Array<{ RepoTags: string[] }>;
    assert.deepEqual(manifest.map((m) => m.RepoTags), [[imageRef(VERSION)]]);
  });

  it("runs each component's --version (Tessera on the pinned Node, OVS 3, OVN 23, iproute2, ethtool)", async () => {
    let i = 0;
    for (const [args, want] of VERSIONS) {
      const out = await ctd!.runOnce(REF, `version-${i++}`, args);
      assert.match(out, want, args.join(' '));
    }
  });

  it('carries no node state (OVS/OVN databases, system-id) and no documentation, manuals or translations', async () => {
    assert.equal(await ctd!.runOnce(REF, 'state', ['find', '/etc/openvswitch', '/etc/ovn', '/var/lib/openvswitch', '/var/lib/ovn', '-type', 'f']), '');
    assert.equal(await ctd!.runOnce(REF, 'docs', ['find', '/usr/share/doc', '-type', 'f', '!', '-name', 'copyright']), '');
    assert.equal(await ctd!.runOnce(REF, 'man', ['find', '/usr/share/man', '/usr/share/locale', '-type', 'f']), '');
  });

  it('tessera-agent with --net-host --privileged drives the node OVS: ready, management port on br-int, JSON logs', async () => {
    const logUri = `file://${join(f.dir, 'agent-container.log')}`;
    await ctd!.ctr(['run', '--detach', '--net-host', '--privileged', '--log-uri', logUri,
      '--mount', `type=bind,src=${f.dir},dst=${f.dir},options=rbind:rw`,
      REF, 'agent', 'tessera-agent', ...f.agentArgs(), '--log-format', 'json']);
    await f.annotateNode();
    await waitFor('agent in the container ready', async () => (await f.health('/readyz')) === 200, 90_000);
    assert.equal(await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'type']), 'internal');
    assert.equal((await f.vsctl(['get', 'Interface', `k8s-${NODE}`, 'external_ids:iface-id'])).replaceAll('"', ''), `k8s-${NODE}`);
    assert.match(await f.inNs(f.nodeNs, 'ip', ['-4', '-o', 'addr', 'show', 'dev', `k8s-${NODE}`]), /10\.244\.1\.2\/24/);
    const tasks = await ctd!.ctr(['tasks', 'list']);
    assert.match(tasks, /^agent\s+\d+\s+RUNNING$/m);
    const lines = readFileSync(join(f.dir, 'agent-container.log'), 'utf8').split('\n').filter(Boolean);
    const logs = lines.map((l) => JSON.parse(l) as { level: string; message: string; component: string });
    assert.ok(logs.some((l) => l.component === 'agent' && l.message === 'node init done: ready'), lines.slice(-5).join('\n'));
  });
});
