// tessera-openstack: the OpenStack-side steps of joining an OpenStack (Neutron ML2/OVN) to Tessera clusters.
//   tessera-openstack ic connect    --router router0 [--ts ts] --az-name op-az --nb ... --sb ... --ic-nb ... --ic-sb ... --gateway-chassis ...
//   tessera-openstack ic disconnect [--ts ts] --az-name op-az --nb ... [--ic-sb ...]
// One router per tenant, each on its own transit switch (seed 002's per-tenant variant): connect/disconnect per --ts.
// Neutron credentials come from --credentials-file (an openrc's KEY=VALUE lines) or the OS_* environment.
import { runMain } from '../lib/cli.js';
import { NeutronClient } from '../lib/neutron/client.js';
import { parseOpenstackArgs } from './args.js';
import { neutronOptions } from './credentials.js';
import { icConnect, icDisconnect } from './ic-connect.js';

async function main(): Promise<void> {
  const r = parseOpenstackArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stdout.write(`${m}\n`);
  if (r.verb === 'disconnect') return icDisconnect({ ...r, log });
  const neutron = new NeutronClient(neutronOptions(r.credentialsFile, process.env));
  const out = await icConnect({ ...r, neutron, log });
  log(`connected: router ${out.routerId} (${out.ovnRouter}) at ${out.address.cidr} on transit switch ${r.ts}`);
}

runMain('tessera-openstack', main);
