// What runs on the lab cluster, as steps: pods, services with their EndpointSlices, lab.json's description,
// NetworkPolicies and the gateways with the egress matrix. Each step with checks names them for lab.check() and
// make lab-status.
import { egressChecks, addEgressMatrix } from './egress-matrix.js';
import { addLabGateway, gatewayChecks } from './gateway.js';
import { need, type LabContext, type LabStep } from './lab-context.js';
import type { LabFile } from './lab-file.js';
import { bringUpPod } from './pod-lifecycle.js';
import { networkPoliciesPath, networkPolicyObject, verdict } from './policy.js';
import { POD_SERVER_PORT, runChecks, tcpExchange } from './report.js';
import { allSettledOrThrow, waitFor } from './wait.js';

const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The pods, concurrently as a node's kubelet would start them; checks ping, TCP and services between them. */
export const podsStep: LabStep = {
  name: 'pods',
  async run(c: LabContext): Promise<void> {
    c.log(`pods: ${c.podSpecs.map((p) => `${p.namespace}/${p.name}@${p.node}`).join(' ')}`);
    c.pods = await allSettledOrThrow(c.podSpecs.map((p) => bringUpPod(c, p)));
  },
  check: (file, o) => runChecks(file, o),
};

/** ClusterIP services and the EndpointSlices the endpointslice controller would write (the lab runs none). */
export const servicesStep: LabStep = {
  name: 'services',
  async run(c: LabContext): Promise<void> {
    const kube = need(c.kube, 'the Kubernetes API');
    for (const s of c.serviceSpecs) {
      const backends = c.pods.filter((p) => matches(p.labels, s.selector));
      const ports = [{ name: 'tcp', protocol: 'TCP' as const, port: s.port, targetPort: s.targetPort }];
      await kube.create(`/api/v1/namespaces/${s.namespace}/services`, {
        apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: s.namespace },
        spec: { type: 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], selector: s.selector, ports },
      });
      await kube.create(`/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices`, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `${s.name}-lab`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'tessera-lab' } },
        addressType: 'IPv4',
        endpoints: backends.map((b) => ({ addresses: [b.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: b.node,
          targetRef: { kind: 'Pod', namespace: b.namespace, name: b.name } })),
        ports: [{ name: 'tcp', protocol: 'TCP', port: s.targetPort }],
      });
      c.services.push({ namespace: s.namespace, name: s.name, clusterIP: s.clusterIP, ports, type: 'ClusterIP', selector: s.selector });
    }
  },
};

/** lab.json's description of what runs where; the steps after it add their parts to it. */
export const describeStep: LabStep = {
  name: 'lab description',
  async run(c: LabContext): Promise<void> {
    const central = need(c.central, 'OVN central');
    const file: LabFile = {
      prefix: c.prefix, createdAt: new Date().toISOString(), components: { apiserver: true, watcher: true, agent: true },
      apiserver: need(c.api, 'the Kubernetes API'),
      nb: { remotes: [central.nbRemote], unixSocket: central.nbSocket },
      sb: { remotes: [central.sbRemote], unixSocket: central.sbSocket },
      ...(c.pki ? { pki: c.pki } : {}),
      central: { netns: c.names.central, ip: c.net.centralIp, runDir: central.dir },
      underlay: { netns: c.underlay.netns, cidr: c.underlay.cidr },
      nodes: c.nodes.map((n) => ({ name: n.name, netns: n.netns, ovsRunDir: n.dir, ovsDbSocket: n.dbSocket, ip: n.ip, subnet: need(c.subnets.get(n.name), `the subnet of ${n.name}`) })),
      pods: c.pods, services: c.services,
    };
    c.file = file;
  },
};

/** The NetworkPolicies, in force once a pair they deny is refused (so the report shows them rather than a race). */
export const policyStep: LabStep = {
  name: 'network policies',
  async run(c: LabContext): Promise<void> {
    if (c.policies.length === 0) return;
    const kube = need(c.kube, 'the Kubernetes API');
    const file = need(c.file, 'the lab description');
    c.log(`network policies: ${c.policies.map((p) => `${p.namespace}/${p.name}`).join(' ')}`);
    for (const p of c.policies) await kube.create(networkPoliciesPath(p.namespace), networkPolicyObject(p));
    file.policies = c.policies;
    const denied = c.pods.flatMap((a) => c.pods.filter((b) => a !== b && !verdict(c.policies, a, b, POD_SERVER_PORT).tcp).map((b) => [a, b] as const))[0];
    if (denied) {
      const [a, b] = denied;
      const ms = await waitFor(`policy to deny ${a.namespace}/${a.name} -> ${b.namespace}/${b.name}`, async () => !(await tcpExchange(a.netns, b.ip, POD_SERVER_PORT, 1)).ok, 30_000, 200);
      c.log(`policies in force ${ms} ms after creation`);
    }
  },
};

/** tessera-gateway on the gateway nodes with an external host, and the egress matrix; checks both. */
export const gatewayStep: LabStep = {
  name: 'gateways',
  async run(c: LabContext): Promise<void> {
    if (!c.gateway) return;
    const host = { file: need(c.file, 'the lab description'), runDir: c.runDir, kube: c.kube };
    c.log(`gateways on ${(c.gateway.nodes ?? c.nodeNames).join(', ')}: external host, tessera-gateway run, default/web as NodePort`);
    await addLabGateway(host, { ...c.gateway, binDir: c.binDir });
    await addEgressMatrix(host);
  },
  check: async (file) => [...await gatewayChecks(file), ...await egressChecks(file)],
};
