// kubectl-tessera: the `kubectl tessera` plugin (trace, diagnose, nbctl/sbctl/vsctl, topology, connectivity).
// Installed as dist/bin/kubectl-tessera; kubectl finds it on PATH. README.md here: how it finds its endpoints.
import { ConfigError } from '../lib/cli.js';
import { parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import { VERSION } from '../lib/version.js';
import { PASSTHROUGH, parseCli, type Values } from './args.js';
import { passthrough } from './passthrough.js';
import { resolveTarget, type Target } from './target.js';

const USAGE = `kubectl-tessera ${VERSION}: operate a Tessera cluster.

Usage: kubectl tessera [GLOBAL FLAGS] COMMAND ...
  trace NS/POD NS/POD|IP|NS/SVC[:PORT] [--tcp|--udp|--icmp] [--raw] [--json]
  diagnose [--json]                  checks NB/SB, nodes, pod ports, stale ports, IPAM, OVN-IC, patch flows
  nbctl ARGS... | sbctl ARGS...      ovn-nbctl / ovn-sbctl against the cluster's NB / SB
  vsctl NODE ARGS...                 ovs-vsctl on NODE
  topology [--html FILE]             routers, switches, subnets, gateway routers, transit switches, pods
  connectivity [--image IMAGE] [--external-host IP:PORT]
                                     test pods: pod<->pod, service, NodePort, egress, NetworkPolicy deny
                                     (image default tessera/tessera:<version>; NodePort and egress need the external host)

Global flags:
  --kubeconfig FILE, --context NAME, -n/--namespace NS (default "default")
  --lab FILE             a lab's lab.json (or $TESSERA_LAB), e.g. .lab/lab.json after make lab
  --nb REMOTES, --sb REMOTES   OVN databases (else ConfigMap kube-system/tessera-endpoints keys nb, sb)
  --ovsdb-private-key FILE --ovsdb-certificate FILE --ovsdb-ca-cert FILE   for ssl: remotes
  --watcher-metrics URL  the watcher's /metrics, for the IPAM allocator check (the lab finds it itself)
`;

async function target(v: Values, ovn = true): Promise<Target> {
  const str = (k: string): string | undefined => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined);
  const nb = str('nb');
  const sb = str('sb');
  const tls = parseOvsdbTls(v, [['nb', nb?.split(',')], ['sb', sb?.split(',')]]);
  return resolveTarget({ lab: str('lab'), kubeconfig: str('kubeconfig'), context: str('context'), nb, sb, tls, watcherMetrics: str('watcher-metrics'), ovn });
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0]);
  }
  const { values: v, command, args } = parsed;
  if (v.version) return void process.stdout.write(`kubectl-tessera ${VERSION}\n`), 0;
  if (v.help || !command) return void process.stdout.write(USAGE), v.help ? 0 : 2;
  const ns = typeof v.namespace === 'string' ? v.namespace : 'default';
  if (PASSTHROUGH.has(command)) return passthrough(await target(v), command as 'nbctl' | 'sbctl' | 'vsctl', args);
  switch (command) {
    case 'trace': {
      const { traceCommand } = await import('./trace/command.js');
      const proto = v.udp ? 'udp' : v.icmp ? 'icmp' : 'tcp';
      return traceCommand(await target(v), { src: args[0], dst: args[1], proto, namespace: ns, raw: v.raw === true, json: v.json === true });
    }
    case 'diagnose': {
      const { diagnoseCommand } = await import('./diagnose/command.js');
      return diagnoseCommand(await target(v), { json: v.json === true });
    }
    case 'topology': {
      const { topologyCommand } = await import('./topology/command.js');
      return topologyCommand(await target(v), { html: typeof v.html === 'string' ? v.html : undefined });
    }
    case 'connectivity': {
      const { connectivityCommand } = await import('./connectivity/command.js');
      return connectivityCommand(await target(v, false), { image: typeof v.image === 'string' ? v.image : undefined,
        externalHost: typeof v['external-host'] === 'string' ? v['external-host'] : undefined });
    }
    default:
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kubectl-tessera: ${msg}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
