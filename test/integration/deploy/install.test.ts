// deploy/install.sh run for real (real kubectl, real ovs-pki) against the API test double: it applies every manifest in
// order and waits for each step, install again is a no-op (the upgrade path), --ovs host leaves tessera-ovs-ovn out, and
// uninstall runs both cleanup phases and leaves nothing of Tessera behind. The double has no controllers: this test
// plays the DaemonSet/Deployment controllers (status caught up a moment after each change, as after a rollout) so that
// install.sh's waits are exercised, and records when each workload was created and became ready.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApiServer, type ApiServer } from '../../../kube-double/server.js';
import { findResource, type KubeObject, type ResourceType } from '../../../kube-double/resources.js';
import { loadManifestFile } from '../../../kube-double/manifests.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const INSTALL = join(ROOT, 'deploy', 'install.sh');
const NODES = ['node-1', 'node-2'];
const ROLLOUT_MS = 300;

const rt = (group: string, plural: string, version = 'v1'): ResourceType => findResource(group, version, plural) ?? assert.fail(plural);
const DS = rt('apps', 'daemonsets');
const DEPLOY = rt('apps', 'deployments');
const all = { labels: [], fields: [] };

describe('deploy/install.sh against the API test double (kubectl, ovs-pki)', function () {
  this.timeout(120_000);
  let api: ApiServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  /** Workload events in order: "created tessera-agent", "ready tessera-agent", "deleted ...". */
  let events: string[] = [];
  const stops: Array<() => void> = [];

  /** Plays the workload controllers: a changed spec is rolled out on every node ROLLOUT_MS later. */
  function controllers(): void {
    for (const type of [DS, DEPLOY]) {
      stops.push(api.store.watch(type, all, {
        send: (kind, ev) => {
          const o = ev.object;
          const name = o.metadata.name as string;
          if (kind === 'DELETED') return void events.push(`deleted ${name}`);
          if (kind === 'ADDED') events.push(`created ${name}`);
          const status = (o.status ?? {}) as { observedGeneration?: number };
          if (status.observedGeneration === o.metadata.generation) return;
          setTimeout(() => {
            let cur: KubeObject;
            try {
              cur = api.store.get(type, 'kube-system', name);
            } catch {
              return; // deleted meanwhile
            }
            const n = type === DS ? NODES.length : Number((cur.spec as { replicas?: number }).replicas ?? 1);
            cur.status = type === DS
              ? { observedGeneration: cur.metadata.generation, desiredNumberScheduled: n, currentNumberScheduled: n, updatedNumberScheduled: n, numberReady: n, numberAvailable: n }
              : { observedGeneration: cur.metadata.generation, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n };
            api.store.update(type, 'kube-system', name, cur, 'status');
            events.push(`ready ${name}`);
          }, ROLLOUT_MS);
        },
      }, undefined));
    }
  }

  const install = (...args: string[]) => promisify(execFile)('sh', [INSTALL, ...args, '--no-validate', '--timeout', '60'], { env, maxBuffer: 1 << 22 });
  const names = (type: ResourceType) => api.store.list(type, all).items.map((o) => o.metadata.name as string).sort();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-install-'));
    // kubectl sends no bearer token over plain http, so this double runs without authentication (RBAC has its own tests).
    api = await startApiServer({ listen: [{ host: '127.0.0.1', port: 0 }], namespaces: ['default', 'kube-system'] });
    for (const n of NODES) api.store.create(rt('', 'nodes'), undefined, { metadata: { name: n }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    writeFileSync(join(dir, 'kubeconfig'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'double', cluster: { server: api.url } }], users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'double', user: 'u' } }], 'current-context': 'c',
    }));
    env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), TESSERA_PKI_DIR: join(dir, 'pki'), HOME: dir };
    controllers();
  });
  after(async () => {
    for (const s of stops) s();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start without a node labelled for OVN central, before applying anything', async () => {
    await assert.rejects(install('install'), (e: Error & { stderr?: string }) => /no node is labelled tessera\.io\/ovn-central=true/.test(e.stderr ?? ''));
    assert.deepEqual(names(rt('', 'configmaps')).filter((n) => n.startsWith('tessera')), []);
    const node = api.store.get(rt('', 'nodes'), undefined, NODES[0]);
    node.metadata.labels = { 'tessera.io/ovn-central': 'true' };
    api.store.update(rt('', 'nodes'), undefined, NODES[0], node);
  });

  it('installs in order, each step waiting for the one before to be rolled out, and ends with every node on Tessera', async () => {
    const { stdout } = await install('install');
    const order = ['tessera-ovn-central', 'tessera-ovs-ovn', 'tessera-watcher', 'tessera-gateway', 'tessera-agent'];
    // tessera-agent-nested (VM nodes) is applied with the agent, in the same step.
    assert.deepEqual(events.filter((e) => e.startsWith('created')), [...order, 'tessera-agent-nested'].map((n) => `created ${n}`));
    for (let i = 1; i < order.length; i++) {
      assert.ok(events.indexOf(`ready ${order[i - 1]}`) < events.indexOf(`created ${order[i]}`), `${order[i]} applied only after ${order[i - 1]} was ready: ${events.join(', ')}`);
    }
    assert.match(stdout, /Tessera is the network of all 2 nodes/);
    // Everything in deploy/ (but the uninstall-only cleanup) is in the double, as written.
    for (const dirName of ['config', 'ovn-central', 'ovs-ovn', 'watcher', 'gateway', 'agent']) {
      for (const f of ['config.yaml', 'tessera-config.yaml', 'scripts.yaml', 'daemonset.yaml', 'nested-daemonset.yaml', 'deployment.yaml', 'rbac.yaml']) {
        let objs: KubeObject[];
        try {
          objs = loadManifestFile(join(ROOT, 'deploy', dirName, f));
        } catch {
          continue; // no such file in that component
        }
        for (const o of objs) {
          const [group, version] = o.apiVersion?.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion ?? ''];
          const type = findResource(group, version, `${(o.kind ?? '').toLowerCase()}s`) ?? assert.fail(`${o.kind}`);
          const stored = api.store.get(type, type.namespaced ? o.metadata.namespace : undefined, o.metadata.name as string);
          for (const key of ['spec', 'data', 'rules', 'subjects', 'roleRef'] as const) assert.deepEqual(stored[key] !== undefined, o[key] !== undefined, `${o.kind}/${o.metadata.name} ${key}`);
          if (o.data) assert.deepEqual(stored.data, o.data);
        }
      }
    }
    // The OVSDB certificates, made by ovs-pki and signed by one CA.
    const secrets = api.store.list(rt('', 'secrets'), { ...all, namespace: 'kube-system' }).items;
    assert.deepEqual(secrets.map((s) => s.metadata.name).sort(), ['tessera-ovsdb-central', 'tessera-ovsdb-node', 'tessera-ovsdb-watcher']);
    const ca = readFileSync(join(dir, 'pki', 'ca', 'switchca', 'cacert.pem'), 'utf8');
    for (const s of secrets) {
      const data = s.data as Record<string, string>;
      assert.equal(Buffer.from(data['cacert.pem'], 'base64').toString(), ca);
      assert.match(Buffer.from(data['privkey.pem'], 'base64').toString(), /PRIVATE KEY/);
    }
  });

  it('a second install changes nothing (no object created, no rollout), the certificates kept', async () => {
    const before = api.store.resourceVersion;
    events = [];
    const { stdout } = await install('install');
    await new Promise((r) => setTimeout(r, ROLLOUT_MS * 2));
    assert.deepEqual(events, []);
    assert.doesNotMatch(stdout, /created|configured/);
    assert.equal(api.store.resourceVersion, before);
  });

  it('uninstall removes the workloads, runs the cleanup on every node in two phases, and leaves nothing behind', async () => {
    events = [];
    // The cleanup phases, as the DaemonSet's PHASE env changes.
    const phases: string[] = [];
    stops.push(api.store.watch(DS, all, {
      send: (_k, ev) => {
        const c = (ev.object.spec as { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } }).template.spec.containers[0];
        const phase = ev.object.metadata.name === 'tessera-cleanup' ? c.env?.find((e) => e.name === 'PHASE')?.value : undefined;
        if (phase && phases[phases.length - 1] !== phase) phases.push(phase);
      },
    }, undefined));
    await install('uninstall');
    assert.deepEqual(phases, ['ports', 'files']);
    const at = (e: string) => events.indexOf(e);
    assert.ok(at('deleted tessera-agent') < at('created tessera-cleanup'), events.join(', '));
    assert.ok(at('deleted tessera-agent-nested') >= 0 && at('deleted tessera-agent-nested') < at('created tessera-cleanup'), events.join(', '));
    assert.ok(at('ready tessera-cleanup') < at('deleted tessera-ovs-ovn'), 'OVS goes only after the ports phase is through');
    assert.ok(at('deleted tessera-ovn-central') < at('deleted tessera-cleanup'));
    assert.deepEqual(names(DS), []);
    assert.deepEqual(names(DEPLOY), []);
    for (const [group, plural] of [['', 'configmaps'], ['', 'secrets'], ['', 'serviceaccounts'], ['rbac.authorization.k8s.io', 'clusterroles'], ['rbac.authorization.k8s.io', 'roles'], ['rbac.authorization.k8s.io', 'rolebindings'], ['rbac.authorization.k8s.io', 'clusterrolebindings']]) {
      assert.deepEqual(names(rt(group, plural)).filter((n) => n.startsWith('tessera')), [], plural);
    }
  });

  it('--ovs host leaves tessera-ovs-ovn out and tells the cleanup to keep the host bridge', async () => {
    events = [];
    await install('install', '--ovs', 'host');
    assert.ok(!events.includes('created tessera-ovs-ovn'));
    assert.ok(events.includes('ready tessera-agent'));
    events = [];
    let mode: string | undefined;
    stops.push(api.store.watch(DS, all, {
      send: (_k, ev) => {
        if (ev.object.metadata.name !== 'tessera-cleanup') return;
        const c = (ev.object.spec as { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } }).template.spec.containers[0];
        mode = c.env?.find((e) => e.name === 'OVS_MODE')?.value ?? mode;
      },
    }, undefined));
    await install('uninstall', '--ovs', 'host');
    assert.equal(mode, 'host');
    assert.deepEqual(names(DS), []);
  });
});
