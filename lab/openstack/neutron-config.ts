// neutron.conf and ml2_conf.ini for the lab's Neutron: ML2 with the OVN mechanism driver, the OVN L3 and trunk
// service plugins, noauth, a fake RPC transport (no agents: ovn-controller on the lab's nodes is the data plane).
import type { TlsOptions } from '../../lib/ovsdb/remote.js';

export interface NeutronConfigInput {
  dir: string;
  bindHost: string;
  port: number;
  dbUrl: string;
  /** ovn_nb_connection / ovn_sb_connection: unix:, tcp: or ssl: remotes, as in ml2_conf.ini. */
  nb: string;
  sb: string;
  /** Client certificate for ssl: remotes. */
  tls?: TlsOptions;
  /** neutron_sync_mode: what neutron-server does with NB rows its database does not know, at start. */
  syncMode?: 'off' | 'log' | 'repair';
  /** auth_strategy = keystone, validating tokens at this Keystone as this service user; noauth when unset. */
  keystone?: NeutronKeystoneAuth;
}

export interface NeutronKeystoneAuth {
  /** Keystone's v3 URL, e.g. http://192.168.0.1:5000/v3. */
  url: string;
  region: string;
  username: string;
  password: string;
  project: string;
}

/** [keystone_authtoken]: no token cache, so a revoked token is refused at once (the lab tests renewal on that). */
function keystoneAuthtoken(k: NeutronKeystoneAuth): Record<string, string> {
  return {
    www_authenticate_uri: k.url, auth_url: k.url, auth_type: 'password', region_name: k.region,
    username: k.username, password: k.password, project_name: k.project, user_domain_name: 'Default', project_domain_name: 'Default',
    token_cache_time: '-1',
  };
}

export function neutronConf(c: NeutronConfigInput): string {
  return ini({
    DEFAULT: {
      core_plugin: 'ml2',
      service_plugins: 'ovn-router,trunk',
      auth_strategy: c.keystone ? 'keystone' : 'noauth',
      bind_host: c.bindHost,
      bind_port: String(c.port),
      allow_overlapping_ips: 'true',
      transport_url: 'fake://',
      log_file: `${c.dir}/neutron.log`,
      state_path: `${c.dir}/state`,
      api_workers: '1',
      rpc_workers: '0',
      rpc_state_report_workers: '0',
    },
    database: { connection: c.dbUrl },
    oslo_concurrency: { lock_path: `${c.dir}/lock` },
    oslo_policy: { enforce_new_defaults: 'false', enforce_scope: 'false' },
    ...(c.keystone ? { keystone_authtoken: keystoneAuthtoken(c.keystone) } : {}),
  });
}

export function ml2Conf(c: NeutronConfigInput): string {
  const ssl = (db: 'nb' | 'sb'): Record<string, string> =>
    c.tls ? { [`ovn_${db}_private_key`]: c.tls.key, [`ovn_${db}_certificate`]: c.tls.cert, [`ovn_${db}_ca_cert`]: c.tls.ca } : {};
  return ini({
    ml2: {
      mechanism_drivers: 'ovn',
      type_drivers: 'local,flat,vlan,geneve',
      tenant_network_types: 'geneve',
      // qos: neutron-ovn-db-sync-util refuses to start without it.
      extension_drivers: 'port_security,qos',
      overlay_ip_version: '4',
    },
    ml2_type_geneve: { vni_ranges: '1:65536', max_header_size: '38' },
    ovn: {
      ovn_nb_connection: c.nb,
      ovn_sb_connection: c.sb,
      ...ssl('nb'),
      ...ssl('sb'),
      ovn_l3_scheduler: 'leastloaded',
      ovn_metadata_enabled: 'false',
      neutron_sync_mode: c.syncMode ?? 'off',
    },
  });
}

function ini(sections: Record<string, Record<string, string>>): string {
  return Object.entries(sections)
    .map(([name, kv]) => `[${name}]\n${Object.entries(kv).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
}
