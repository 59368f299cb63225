// tessera-openstack's command line: which verb, which Neutron router joins which transit switch as which AZ, and the
// databases. Parsed into a typed request so main.ts only runs it; every refusal is a ConfigError naming the flag.
import { ConfigError, parseCommand, requireString, type CommandSpec } from '../lib/cli.js';
import { OVSDB_TLS_FLAGS, parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { TS_NAME } from '../lib/ovn/names.js';

export const SPEC: CommandSpec = {
  name: 'tessera-openstack',
  summary: 'connects an OpenStack (Neutron ML2/OVN) to Tessera clusters through OVN-IC',
  usage: 'tessera-openstack ic connect|disconnect [flags]',
  positionals: true,
  flags: {
    'credentials-file': { type: 'string', help: 'OS_* KEY=VALUE lines (an openrc without export); default: the OS_* environment' },
    router: { type: 'string', help: 'Neutron router to interconnect (created when missing)', default: 'router0' },
    ts: { type: 'string', help: `transit switch the router joins (one per tenant: the cluster's ovn-ic-config ts-name)`, default: TS_NAME },
    'az-name': { type: 'string', help: 'this OpenStack OVN\'s availability-zone name in OVN-IC', default: 'op-az' },
    nb: { type: 'string', help: 'OpenStack\'s OVN NB remote(s), comma list (as ml2_conf.ini ovn_nb_connection)' },
    sb: { type: 'string', help: 'OpenStack\'s OVN SB remote(s), comma list' },
    'ic-nb': { type: 'string', help: 'IC-NB remote(s), e.g. tcp:192.168.65.3:6645' },
    'ic-sb': { type: 'string', help: 'IC-SB remote(s), e.g. tcp:192.168.65.3:6646 (disconnect: also withdraws this AZ\'s routes on the ts)' },
    'gateway-chassis': { type: 'string', help: 'gateway chassis names, comma list, preferred first' },
    'run-dir': { type: 'string', help: 'start ovn-ic for this OVN with its pidfile and log here; omit if ovn-ic runs already' },
    ...OVSDB_TLS_FLAGS,
  },
};

/** OVN names: the AZ and the ts go into port names (`<az>-<ts>`, `<ts>-<az>`), as the cluster side checks them. */
const OVN_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

interface Common {
  azName: string;
  ts: string;
  nb: string[];
  tls?: TlsOptions;
  runDir?: string;
}

export type OpenstackRequest =
  | ({ verb: 'connect'; router: string; sb: string[]; icNb: string[]; icSb: string[]; gatewayChassis: string[]; credentialsFile?: string } & Common)
  | ({ verb: 'disconnect'; icSb?: string[] } & Common);

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function ovnName(values: Record<string, unknown>, flag: string): string {
  const v = requireString(values as Parameters<typeof requireString>[0], flag).trim();
  if (!OVN_NAME_RE.test(v)) throw new ConfigError(`--${flag} "${v}": want 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`);
  return v;
}

export function parseOpenstackArgs(argv: string[]): OpenstackRequest {
  const { values, positionals } = parseCommand(SPEC, argv);
  const [group, verb, extra] = positionals;
  if (group !== 'ic' || (verb !== 'connect' && verb !== 'disconnect') || extra !== undefined) throw new ConfigError(`usage: ${SPEC.usage}`);
  const nb = list(requireString(values, 'nb'));
  const common = { azName: ovnName(values, 'az-name'), ts: ovnName(values, 'ts'), nb, runDir: values['run-dir'] as string | undefined };
  if (verb === 'disconnect') {
    const icSb = values['ic-sb'] ? list(values['ic-sb'] as string) : undefined;
    const tls = parseOvsdbTls(values, [['nb', nb], ['ic-sb', icSb]]);
    return { verb, ...common, tls, icSb };
  }
  const [sb, icNb, icSb] = (['sb', 'ic-nb', 'ic-sb'] as const).map((f) => list(requireString(values, f))) as [string[], string[], string[]];
  const tls = parseOvsdbTls(values, [['nb', nb], ['sb', sb], ['ic-nb', icNb], ['ic-sb', icSb]]);
  const gatewayChassis = list(requireString(values, 'gateway-chassis'));
  return { verb, ...common, tls, router: requireString(values, 'router').trim(), sb, icNb, icSb, gatewayChassis,
    credentialsFile: values['credentials-file'] as string | undefined };
}
