// tessera-openstack: the OpenStack-side steps of joining an OpenStack (Neutron ML2/OVN) to Tessera clusters.
//   tessera-openstack ic connect    --router router0 --az-name op-az --nb ... --sb ... --ic-nb ... --ic-sb ... --gateway-chassis ...
//   tessera-openstack ic disconnect --az-name op-az --nb ...
// Neutron credentials come from --credentials-file (an openrc's KEY=VALUE lines) or the OS_* environment.
import { ConfigError, parseCommand, requireString, runMain, type CommandSpec } from '../lib/cli.js';
import { OVSDB_TLS_FLAGS, parseOvsdbTls } from '../lib/ovsdb-tls-flags.js';
import { NeutronClient } from '../lib/neutron/client.js';
import { neutronOptions } from './credentials.js';
import { icConnect, icDisconnect } from './ic-connect.js';

const SPEC: CommandSpec = {
  name: 'tessera-openstack',
  summary: 'connects an OpenStack (Neutron ML2/OVN) to Tessera clusters through OVN-IC',
  usage: 'tessera-openstack ic connect|disconnect [flags]',
  positionals: true,
  flags: {
    'credentials-file': { type: 'string', help: 'OS_* KEY=VALUE lines (an openrc without export); default: the OS_* environment' },
    router: { type: 'string', help: 'Neutron router to interconnect (created when missing)', default: 'router0' },
    'az-name': { type: 'string', help: 'this OpenStack OVN\'s availability-zone name in OVN-IC', default: 'op-az' },
    nb: { type: 'string', help: 'OpenStack\'s OVN NB remote(s), comma list (as ml2_conf.ini ovn_nb_connection)' },
    sb: { type: 'string', help: 'OpenStack\'s OVN SB remote(s), comma list' },
    'ic-nb': { type: 'string', help: 'IC-NB remote(s), e.g. tcp:192.168.65.3:6645' },
    'ic-sb': { type: 'string', help: 'IC-SB remote(s), e.g. tcp:192.168.65.3:6646' },
    'gateway-chassis': { type: 'string', help: 'gateway chassis names, comma list, preferred first' },
    'run-dir': { type: 'string', help: 'start ovn-ic for this OVN with its pidfile and log here; omit if ovn-ic runs already' },
    ...OVSDB_TLS_FLAGS,
  },
};

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

async function main(): Promise<void> {
  const { values, positionals } = parseCommand(SPEC, process.argv.slice(2));
  const [group, verb] = positionals;
  if (group !== 'ic' || (verb !== 'connect' && verb !== 'disconnect')) throw new ConfigError(`usage: ${SPEC.usage}`);
  const nb = list(requireString(values, 'nb'));
  const log = (m: string): void => void process.stdout.write(`${m}\n`);
  const azName = requireString(values, 'az-name');
  const runDir = values['run-dir'] as string | undefined;
  if (verb === 'disconnect') {
    const tls = parseOvsdbTls(values, [['nb', nb]]);
    return icDisconnect({ nb, tls, azName, runDir, log });
  }
  const [sb, icNb, icSb] = ['sb', 'ic-nb', 'ic-sb'].map((f) => list(requireString(values, f)));
  const tls = parseOvsdbTls(values, [['nb', nb], ['sb', sb!], ['ic-nb', icNb!], ['ic-sb', icSb!]]);
  const neutron = new NeutronClient(neutronOptions(values['credentials-file'] as string | undefined, process.env));
  const gatewayChassis = list(requireString(values, 'gateway-chassis'));
  const r = await icConnect({ neutron, router: requireString(values, 'router'), azName, nb, sb: sb!, icNb: icNb!, icSb: icSb!, gatewayChassis, tls, runDir, log });
  log(`connected: router ${r.routerId} (${r.ovnRouter}) at ${r.address.cidr}`);
}

runMain('tessera-openstack', main);
