// Every manifest in deploy/ against the code: each parses; every ConfigMap (and key), Secret, ServiceAccount and CRD it
// references exists; every image is this version's; every Tessera container's command line, with its env and mounted
// config file filled in as the kubelet would, passes that daemon's own flag parsing and validation; the config file
// passes the --config schema; the shell scripts parse.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { V1ConfigMap, V1Container, V1EnvVar, V1PodSpec, V1PolicyRule, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseManifests } from '../../../kube-double/manifests.js';
import type { KubeObject } from '../../../kube-double/resources.js';
import { parseCommand } from '../../../lib/cli.js';
import { parseConfigFile, withConfigFile } from '../../../lib/config-file.js';
import { WATCHER_SPEC, loadConfig } from '../../../watcher/config.js';
import { parseConfig as parseAgent, spec as AGENT_SPEC } from '../../../agent/config.js';
import { ALL_GATEWAY_FLAGS, parseCommon, parseGateway, specs as GATEWAY_SPECS } from '../../../gateway/config.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const CONFIG_PATH = '/etc/tessera/config/tessera.json';
const CERTS_DIR = '/etc/tessera/ovsdb/';
/** What the downward API gives a pod in this test. */
const FIELD_VALUES: Record<string, string> = { 'spec.nodeName': 'node-1', 'status.hostIP': '10.0.0.21', 'metadata.name': 'tessera-watcher-5d4f9-x2x7q' };

/** The manifests install.sh applies: every YAML file under deploy/, save the examples under seeds/ (lab and tests). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return e === 'seeds' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(e) ? [p] : [];
  });
}

const files = yamlFiles(DEPLOY);
const objects: Array<KubeObject & { file: string }> = files.flatMap((f) => parseManifests(readFileSync(f, 'utf8'), f).map((o) => ({ ...o, file: relative(ROOT, f) })));
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const configMap = (name: string | undefined): V1ConfigMap | undefined => ofKind('ConfigMap').find((o) => o.metadata.name === name) as V1ConfigMap | undefined;
const workloads = objects.filter((o) => ['DaemonSet', 'Deployment', 'StatefulSet', 'Job'].includes(o.kind ?? ''));
const podSpec = (w: KubeObject): V1PodSpec => (w.spec as { template: { spec: V1PodSpec } }).template.spec;
const containers = (w: KubeObject): V1Container[] => [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers];
/** The Secrets install.sh creates (deploy/pki.sh's roles). */
const INSTALLED_SECRETS = ((/for role in ([a-z ]+); do/.exec(readFileSync(join(DEPLOY, 'install.sh'), 'utf8')) ?? [])[1] ?? '').split(' ').map((r) => `tessera-ovsdb-${r}`);

function envValue(e: V1EnvVar): string {
  if (e.value !== undefined) return e.value;
  const field = e.valueFrom?.fieldRef?.fieldPath;
  if (field) return FIELD_VALUES[field] ?? assert.fail(`no sample for fieldRef ${field}`);
  const ref = e.valueFrom?.configMapKeyRef;
  if (ref) return configMap(ref.name)?.data?.[ref.key] ?? assert.fail(`ConfigMap ${ref.name} has no key ${ref.key}`);
  return assert.fail(`env ${e.name}: unsupported source`);
}

/** Whether a DaemonSet's pod lands on a node with these labels (nodeSelector and required node affinity). */
function schedules(spec: V1PodSpec, labels: Record<string, string>): boolean {
  if (!Object.entries(spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((e) => {
    const v = labels[e.key];
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v);
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
      default: return assert.fail(`operator ${e.operator} not modelled`);
    }
  }));
}

describe('deploy/ manifests', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tessera-deploy-'));
    for (const f of ['privkey.pem', 'cert.pem', 'cacert.pem']) writeFileSync(join(tmp, f), 'test');
    writeFileSync(join(tmp, 'tessera.json'), configMap('tessera-config')?.data?.['tessera.json'] ?? '');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('parse: every file holds Kubernetes objects, in kube-system when namespaced', () => {
    assert.ok(files.length >= 12 && objects.length >= 25, `${files.length} files, ${objects.length} objects`);
    for (const o of objects) {
      const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Namespace', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind ?? '');
      if (!clusterScoped && !(o.kind === 'ServiceMonitor')) assert.equal(o.metadata.namespace, 'kube-system', `${o.file}: ${o.kind}/${o.metadata.name}`);
    }
  });

  it("reference only ConfigMaps (and keys), Secrets and ServiceAccounts that exist, and this version's image", () => {
    const accounts = new Set(ofKind('ServiceAccount').map((o) => o.metadata.name));
    assert.deepEqual(INSTALLED_SECRETS, ['tessera-ovsdb-central', 'tessera-ovsdb-watcher', 'tessera-ovsdb-node']);
    for (const w of workloads) {
      const where = `${w.file}: ${w.kind}/${w.metadata.name}`;
      const spec = podSpec(w);
      if (spec.serviceAccountName) assert.ok(accounts.has(spec.serviceAccountName), `${where}: no ServiceAccount ${spec.serviceAccountName}`);
      else assert.equal(spec.automountServiceAccountToken, false, `${where}: no API access, so no token mounted`);
      for (const v of spec.volumes ?? []) {
        if (v.configMap) {
          const cm = configMap(v.configMap.name);
          assert.ok(cm, `${where}: no ConfigMap ${v.configMap.name}`);
          for (const i of v.configMap.items ?? []) assert.ok(cm.data?.[i.key] !== undefined, `${where}: ConfigMap ${v.configMap.name} has no key ${i.key}`);
        }
        if (v.secret) assert.ok(INSTALLED_SECRETS.includes(v.secret.secretName ?? ''), `${where}: Secret ${v.secret.secretName} is not one install.sh creates`);
      }
      for (const c of containers(w)) {
        assert.equal(c.image, `tessera/tessera:${VERSION}`, `${where}: container ${c.name}`);
        for (const e of c.env ?? []) envValue(e);
        for (const m of c.volumeMounts ?? []) assert.ok(spec.volumes?.some((v) => v.name === m.name), `${where}: mount ${m.name} has no volume`);
      }
    }
  });

  it('RBAC: bindings name roles and accounts that exist; custom resources have their CRD in deploy/crds', function () {
    const roles = new Set(objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').map((o) => `${o.kind}/${o.metadata.name}`));
    const accounts = new Set(ofKind('ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    for (const b of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      const ref = b.roleRef as { kind: string; name: string };
      assert.ok(roles.has(`${ref.kind}/${ref.name}`), `${b.file}: ${b.kind}/${b.metadata.name} binds missing ${ref.kind}/${ref.name}`);
      for (const s of b.subjects as Array<{ kind: string; name: string; namespace: string }>) assert.ok(accounts.has(`${s.namespace}/${s.name}`), `${b.file}: no ServiceAccount ${s.namespace}/${s.name}`);
    }
    const builtIn = new Set(['', 'apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'networking.k8s.io', 'events.k8s.io', 'rbac.authorization.k8s.io']);
    const crds = ofKind('CustomResourceDefinition') as unknown as V1CustomResourceDefinition[];
    const custom = objects.flatMap((o) => ((o.rules as V1PolicyRule[] | undefined) ?? []).flatMap((r) => (r.apiGroups ?? []).filter((g) => !builtIn.has(g)).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}`))));
    assert.ok(custom.length > 0);
    assert.ok(crds.length > 0, 'deploy/crds holds the kubeovn.io CRDs');
    // A grant names a CRD's plural, or `<plural>/status` of a CRD that serves the status subresource.
    const grantable = new Set(crds.flatMap((c) => {
      const base = `${c.spec.group}/${c.spec.names.plural}`;
      return c.spec.versions.some((v) => v.subresources?.status) ? [base, `${base}/status`] : [base];
    }));
    for (const gr of custom) assert.ok(grantable.has(gr), `RBAC grants ${gr}, which no CRD in deploy/crds defines`);
  });

  it('the config file passes the --config schema and names the same OVN central members as ovn-central-ips', () => {
    const cm = configMap('tessera-config');
    const cfg = parseConfigFile(cm?.data?.['tessera.json'] ?? '', 'tessera-config');
    const ips = (cm?.data?.['ovn-central-ips'] ?? '').split(',');
    assert.ok(ips.length === 1 || ips.length === 3, 'a Raft cluster of 1 or 3');
    assert.equal(cfg.ovn?.nb, ips.map((ip) => `ssl:${ip}:6641`).join(','));
    assert.equal(cfg.ovn?.sb, ips.map((ip) => `ssl:${ip}:6642`).join(','));
    assert.ok(['system', 'netdev'].includes(cm?.data?.['ovs-datapath'] ?? ''));
  });

  it("every Tessera container's command line passes that daemon's flag parsing and validation", () => {
    let checked = 0;
    for (const w of workloads) {
      for (const c of containers(w)) {
        const [cmd, ...rest] = [...(c.command ?? []), ...(c.args ?? [])];
        const daemon = /^\/usr\/local\/bin\/tessera-(watcher|agent|gateway)$/.exec(cmd ?? '')?.[1];
        if (!daemon) continue;
        const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, envValue(e)]));
        // $(VAR) as the kubelet expands it; mounted files at their test copies.
        const argv = rest.map((a) => a.replace(/\$\(([A-Z_]+)\)/g, (_m, v: string) => env[v] ?? assert.fail(`$(${v}) is not in the env of ${c.name}`))
          .replace(CONFIG_PATH, join(tmp, 'tessera.json')));
        // The certificates are at their test copies only where the container mounts them, as the kubelet would.
        const mountsCerts = (c.volumeMounts ?? []).some((m) => `${m.mountPath.replace(/\/$/, '')}/` === CERTS_DIR);
        const certs = (args: string[]) => (mountsCerts ? args.map((a) => a.replaceAll(CERTS_DIR, `${tmp}/`)) : args);
        const where = `${w.metadata.name}/${c.name}: ${argv.join(' ')}`;
        try {
          if (daemon === 'watcher') loadConfig(parseCommand(WATCHER_SPEC, certs(withConfigFile(WATCHER_SPEC, 'watcher', argv))), { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
          else if (daemon === 'agent') parseAgent(certs(withConfigFile(AGENT_SPEC, 'agent', argv)));
          else {
            const [sub, ...args] = argv;
            const spec = GATEWAY_SPECS[sub] ?? assert.fail(`${where}: no gateway subcommand`);
            const parsed = parseCommand(spec, certs(withConfigFile(spec, 'gateway', args, ALL_GATEWAY_FLAGS)));
            if (sub === 'run' || sub === 'init') parseGateway(parsed.values);
            else parseCommon(parsed.values);
          }
        } catch (err) {
          assert.fail(`${where}: ${(err as Error).message}`);
        }
        checked++;
      }
    }
    assert.equal(checked, 5, 'the watcher, the agent, the nested agent, the gateway (nics-to-bridge and run)');
  });

  it('nested nodes (tessera.io/nested=true) get tessera-agent-nested alone: no OVS, no certificates; other nodes the plain agent', () => {
    const daemonSets = ofKind('DaemonSet').filter((d) => d.metadata.name !== 'tessera-cleanup'); // uninstall only
    const on = (labels: Record<string, string>): string[] => daemonSets.filter((d) => schedules(podSpec(d), labels)).map((d) => d.metadata.name as string).sort();
    const nestedDs = on({ 'tessera.io/nested': 'true' });
    assert.deepEqual(nestedDs, ['tessera-agent-nested']);
    assert.ok(on({}).includes('tessera-agent') && !on({}).includes('tessera-agent-nested'));
    assert.ok(on({ 'tessera.io/nested': 'false' }).includes('tessera-agent'));
    const spec = podSpec(daemonSets.find((d) => d.metadata.name === 'tessera-agent-nested')!);
    const hostPaths = (spec.volumes ?? []).flatMap((v) => (v.hostPath ? [v.hostPath.path] : []));
    for (const p of ['/var/run/openvswitch', '/var/run/ovn']) assert.ok(!hostPaths.includes(p), `no ${p} on a VM`);
    assert.ok(!(spec.volumes ?? []).some((v) => v.secret), 'no OVSDB certificates on a VM');
    const agent = spec.containers.find((c) => c.name === 'agent')!;
    const cfg = parseAgent((agent.args ?? []).map((a) => a.replace('$(NODE_NAME)', 'vm-1')));
    assert.equal(cfg.nestedParentIface, 'eth0');
  });

  it('the shell scripts parse (sh -n), install.sh and pki.sh included', () => {
    const scripts = ofKind('ConfigMap').flatMap((cm) => Object.entries((cm as V1ConfigMap).data ?? {}).filter(([k]) => k.endsWith('.sh')).map(([k, v]) => [k, v] as const));
    assert.deepEqual(scripts.map(([k]) => k).sort(), ['cleanup.sh', 'ovn-central.sh', 'ovs.sh']);
    for (const [name, text] of scripts) {
      const f = join(tmp, name);
      writeFileSync(f, text);
      execFileSync('sh', ['-n', f]);
    }
    for (const f of ['install.sh', 'pki.sh']) execFileSync('sh', ['-n', join(DEPLOY, f)]);
  });
});
