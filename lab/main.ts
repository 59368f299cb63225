// `make lab` / `make lab-down` / `make lab-status`: the local lab cluster for a user's demo.
// `make lab CLUSTERS=2` (--clusters 2): two clusters interconnected by OVN-IC instead (multi-cluster.ts).
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CIDRS, DEFAULT_PREFIX, defaultStateDir, startLab, teardownLab } from './cluster.js';
import { livePids } from './daemon.js';
import { readLabFile, type MultiClusterLabFile } from './lab-file.js';
import { kubectlHints } from './kubectl-hints.js';
import { formatMultiReport, multiClusterChecks, startMultiLab } from './multi-cluster.js';
import { listNetns } from './netns.js';
import { DEFAULT_POLICY } from './policy.js';
import { POD_SERVER_PORT, formatReport } from './report.js';
import { labChecks } from './steps.js';
import { vpcListings, vpcReport } from './vpc.js';
import { nestedReport } from './nested-checks.js';
import { sharedLabReport } from './openstack/shared-checks.js';

const log = (m: string): void => void process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${m}\n`);

const usage = 'usage: lab/main.ts up|down|status [--prefix tessera-] [--state-dir DIR (default .lab; /tmp/<prefix>lab for other prefixes)]\n' +
  '  [--nodes 2 (per cluster)] [--clusters 1 (2..4: clusters interconnected by OVN-IC)] [--openstack ic (an OpenStack AZ with a real Neutron, interconnected too) | ic-tenants (two clusters, one OpenStack tenant each) | shared (a real Neutron writing into this cluster\'s NB/SB)]\n' +
  '  [--no-policy (one cluster: skip the NetworkPolicy)] [--no-gateway (one cluster: skip the gateway node and external host)]\n' +
  '  [--vpc (one cluster: two kubeovn.io Vpcs with overlapping Subnets, and their isolation matrix)]\n' +
  '  [--nested (one cluster: a hypervisor with two VMs running nested nodes and pods, and their reachability)]';

function parse(): ReturnType<typeof parseOpts> {
  try {
    return parseOpts();
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message.split('\n')[0]}\n${usage}\n`);
    process.exit(2);
  }
}
function parseOpts() {
  return parseArgs({ allowPositionals: true, options: { prefix: { type: 'string' }, 'state-dir': { type: 'string' }, nodes: { type: 'string' },
    clusters: { type: 'string' }, 'no-policy': { type: 'boolean' }, 'no-gateway': { type: 'boolean' }, openstack: { type: 'string' },
    vpc: { type: 'boolean' }, nested: { type: 'boolean' } } });
}
const parsed = parse();
const prefix = parsed.values.prefix ?? DEFAULT_PREFIX;
const stateDir = resolve(parsed.values['state-dir'] ?? defaultStateDir(prefix));
const nodes = Number(parsed.values.nodes ?? 2);
const clusters = Number(parsed.values.clusters || 1);
if (!Number.isInteger(clusters) || clusters < 1 || clusters > 4) {
  process.stderr.write(`lab: --clusters ${JSON.stringify(parsed.values.clusters)}: want 1..4\n${usage}\n`);
  process.exit(2);
}

const openstack = (parsed.values.openstack || undefined) as 'ic' | 'ic-tenants' | 'shared' | undefined;
if (openstack !== undefined && openstack !== 'ic' && openstack !== 'ic-tenants' && openstack !== 'shared') {
  process.stderr.write(`lab: --openstack ${JSON.stringify(openstack)}: want ic, ic-tenants or shared\n${usage}\n`);
  process.exit(2);
}

async function upMulti(): Promise<number> {
  const t0 = Date.now();
  const lab = await startMultiLab({ prefix, stateDir, clusters: openstack === 'ic-tenants' ? 2 : clusters, nodes, log, keepOnFailure: true, openstack: openstack === 'shared' ? undefined : openstack });
  const checks = await lab.check();
  process.stdout.write(lab.report(checks, Date.now() - t0) + '\n');
  const [a, b] = lab.file.clusters;
  const from = a?.pods.find((p) => p.name === 'client');
  const target = (lab.file.openstack?.tenants ? undefined : b?.pods[0]?.ip) ?? lab.file.openstack?.vms[0]?.ip ?? '';
  process.stdout.write(`Lab description: ${lab.labFilePath} (clusters[], interconnect{}${lab.file.openstack ? ', openstack{}' : ''}). Try: ip netns exec ${from?.netns ?? ''} nc -N ${target} ${POD_SERVER_PORT} </dev/null. ` +
    `Status: kubectl-style GET ${lab.file.interconnect.statusConfigMap} on each cluster's API. Remove with: make lab-down\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

async function up(): Promise<number> {
  if (clusters > 1 || openstack === 'ic' || openstack === 'ic-tenants') return upMulti();
  const t0 = Date.now();
  const gateway = !parsed.values['no-gateway'];
  // With the gateway, NodePort traffic reaches the web pods SNATed to a join IP: the policy lets that in too.
  const policies = parsed.values['no-policy'] ? [] : [DEFAULT_POLICY(POD_SERVER_PORT, gateway ? [CIDRS.join] : [])];
  const lab = await startLab({ prefix, stateDir, nodes, log, keepOnFailure: true, policies, gateway, vpc: parsed.values.vpc, nested: parsed.values.nested,
    openstack: openstack === 'shared' ? 'shared' : undefined });
  const checks = await lab.check();
  process.stdout.write(lab.report(checks, Date.now() - t0) + '\n');
  if (lab.file.vpcs) process.stdout.write(await vpcReport(lab.file, lab.kube, checks));
  if (lab.file.nested) process.stdout.write(nestedReport(lab.file, checks));
  if (lab.file.openstack) process.stdout.write(sharedLabReport(lab.file, checks) + await vpcListings(lab.kube) + '\n');
  const from = lab.file.pods.find((p) => p.labels?.role === 'client') ?? lab.file.pods[0];
  const to = lab.file.pods.find((p) => p !== from && p.node !== from?.node) ?? lab.file.pods.find((p) => p !== from);
  process.stdout.write(`Lab description: ${lab.labFilePath}. Try: ip netns exec ${from?.netns ?? ''} nc -N ${to?.ip ?? ''} ${POD_SERVER_PORT} </dev/null. Remove with: make lab-down\n`);
  process.stdout.write(kubectlHints(lab.labFilePath, lab.file) + '\n');
  return checks.every((c) => c.ok) ? 0 : 1;
}

/** Removes either kind of lab: everything under the state dir's run/ and every netns with the prefix. */
async function down(): Promise<number> {
  const notes = await teardownLab({ prefix, stateDir });
  for (const n of notes) log(`warning: ${n}`);
  log('lab removed');
  return 0;
}

async function status(): Promise<number> {
  const lab = readLabFile(join(stateDir, 'lab.json'));
  const netns = (await listNetns()).filter((n) => n.startsWith(lab.prefix));
  const pids = livePids(join(stateDir, 'run'));
  log(`${netns.length} netns, ${pids.length} daemons alive`);
  const multi = (lab as Partial<MultiClusterLabFile>).clusters ? (lab as MultiClusterLabFile) : undefined;
  const checks = multi ? await multiClusterChecks(multi) : await labChecks(lab, { servers: true });
  process.stdout.write((multi ? formatMultiReport(multi, checks, undefined) : formatReport(lab, checks, undefined)) + '\n');
  if (!multi && lab.openstack) process.stdout.write(sharedLabReport(lab, checks));
  return checks.every((c) => c.ok) ? 0 : 1;
}

const cmd = parsed.positionals[0];
const actions: Record<string, () => Promise<number>> = { up, down, status };
const action = cmd ? actions[cmd] : undefined;
if (!action) {
  process.stderr.write(`lab: unknown command ${JSON.stringify(cmd ?? '')}\n${usage}\n`);
  process.exit(2);
}
action().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`lab ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
