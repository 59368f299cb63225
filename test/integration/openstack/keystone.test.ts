// Keystone v3 password auth against a real Keystone (keystone 22, fernet tokens, MariaDB) and a real neutron-server
// with auth_strategy = keystone: the client gets a project token, finds Neutron in the catalog, creates and lists
// networks, names the user on a wrong password, and renews a revoked token once when Neutron answers 401.
import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startCentral } from '../../../lab/ovn-central.js';
import { stopDaemons } from '../../../lab/daemon.js';
import { addAddr, addNetns, addVeth, delNetns } from '../../../lab/netns.js';
import { startKeystone, stopKeystone, type Keystone } from '../../../lab/openstack/keystone.js';
import { addUser, keystoneAdmin, registerNeutron, revokeToken, type KeystoneAdmin } from '../../../lab/openstack/keystone-admin.js';
import { NEUTRON_PORT, startNeutron, stopNeutron, type Neutron } from '../../../lab/openstack/neutron.js';
import { NeutronApiError, NeutronClient, type NeutronClientOptions, type TokenSource } from '../../../lib/neutron/client.js';
import { neutronOptionsFromSecret } from '../../../lib/neutron/credentials.js';
import { KeystoneAuthError } from '../../../lib/neutron/keystone.js';

const KS_NETNS = 'tessera-itksk';
const NEU_NETNS = 'tessera-itksn';
const KS_IP = '192.168.231.1';
const NEU_IP = '192.168.231.2';
const USER_PASSWORD = 'tessera-Secret-1';

describe('Keystone v3 password auth (real keystone, real neutron-server with auth_strategy = keystone)', function () {
  this.timeout(600_000);
  const dir = join(tmpdir(), 'tessera-itks');
  let keystone: Keystone;
  let neutron: Neutron;
  let admin: KeystoneAdmin;
  let projectId: string;
  const secret = (over: Record<string, string> = {}): Record<string, string> => ({
    OS_AUTH_URL: keystone.url, OS_USERNAME: 'tessera', OS_PASSWORD: USER_PASSWORD, OS_PROJECT_NAME: 'tessera',
    OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_REGION_NAME: 'RegionOne', OS_INTERFACE: 'public', ...over,
  });
  const options = (over: Record<string, string> = {}): NeutronClientOptions =>
    neutronOptionsFromSecret(secret(over), { keystoneSocket: keystone.socket, neutronSocket: neutron.socket });
  const sessionOf = (o: NeutronClientOptions): TokenSource => {
    assert.equal(o.auth.kind, 'keystone');
    return (o.auth as { session: TokenSource }).session;
  };

  before(async () => {
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    await stopKeystone(join(dir, 'keystone')).catch(() => undefined);
    await stopDaemons(dir);
    await delNetns(KS_NETNS);
    await delNetns(NEU_NETNS);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await addNetns(KS_NETNS);
    await addNetns(NEU_NETNS);
    await addVeth({ netns: KS_NETNS, name: 'ks0' }, { netns: NEU_NETNS, name: 'neu0' });
    await addAddr(KS_NETNS, 'ks0', `${KS_IP}/24`);
    await addAddr(NEU_NETNS, 'neu0', `${NEU_IP}/24`);
    let t = Date.now();
    keystone = await startKeystone({ dir: join(dir, 'keystone'), netns: KS_NETNS, bindHost: KS_IP, adminPassword: 'lab-Admin-1' });
    admin = keystoneAdmin(keystone);
    await registerNeutron(admin, keystone, `http://${NEU_IP}:${NEUTRON_PORT}`);
    await addUser(admin, { name: 'neutron', password: 'lab-Neutron-1', project: 'service', role: 'admin' });
    projectId = await addUser(admin, { name: 'tessera', password: USER_PASSWORD, project: 'tessera', role: 'member' });
    console.log(`      keystone up and provisioned in ${Date.now() - t} ms`);
    t = Date.now();
    const central = await startCentral({ dir: join(dir, 'central'), netns: NEU_NETNS, ip: '127.0.0.1' });
    neutron = await startNeutron({
      dir: join(dir, 'neutron'), netns: NEU_NETNS, bindHost: NEU_IP, nb: `unix:${central.nbSocket}`, sb: `unix:${central.sbSocket}`,
      keystone: { url: keystone.url, region: keystone.region, username: 'neutron', password: 'lab-Neutron-1', project: 'service' },
    });
    console.log(`      neutron-server (keystone auth) up in ${Date.now() - t} ms`);
  });
  after(async () => {
    await stopNeutron(join(dir, 'neutron'));
    await stopKeystone(join(dir, 'keystone'));
    await stopDaemons(dir);
    await delNetns(KS_NETNS);
    await delNetns(NEU_NETNS);
  });

  it('Neutron refuses a request without a Keystone token', async () => {
    const noauth = new NeutronClient({ url: `http://${NEU_IP}:${NEUTRON_PORT}`, socketPath: neutron.socket, auth: { kind: 'noauth', projectId } });
    await assert.rejects(noauth.listNetworks(), (e: unknown) => e instanceof NeutronApiError && e.status === 401);
  });

  it('gets a project token, finds Neutron in the catalog, creates and lists a network in that project', async () => {
    const o = options();
    assert.equal(o.url, '', 'no OS_ENDPOINT: the URL must come from the catalog');
    const api = new NeutronClient(o);
    const net = await api.createNetwork('ks-net1');
    assert.equal(net.project_id, projectId);
    assert.equal(api.projectId, projectId);
    assert.equal(await sessionOf(o).endpoint(), `http://${NEU_IP}:${NEUTRON_PORT}`);
    assert.deepEqual((await api.listNetworks({ name: 'ks-net1' })).map((n) => n.id), [net.id]);
  });

  it('a wrong password fails with an error naming the user and the auth URL, not the password', async () => {
    const api = new NeutronClient(options({ OS_PASSWORD: 'Wrong-Password-9' }));
    await assert.rejects(api.listNetworks(), (e: unknown) => {
      assert.ok(e instanceof KeystoneAuthError, String(e));
      assert.equal(e.status, 401);
      assert.match(e.message, /"tessera"/);
      assert.ok(e.message.includes(keystone.url), e.message);
      assert.ok(!e.message.includes('Wrong-Password-9') && !e.message.includes(USER_PASSWORD), e.message);
      return true;
    });
  });

  it('a region the catalog lacks fails with an error that says so', async () => {
    const api = new NeutronClient(options({ OS_REGION_NAME: 'NoSuchRegion' }));
    await assert.rejects(api.listNetworks(), /no network endpoint \(interface public, region NoSuchRegion\)/);
  });

  it('a revoked token is refused by Neutron, renewed once, and the request succeeds', async () => {
    const o = options();
    const api = new NeutronClient(o);
    await api.listNetworks();
    const old = (await sessionOf(o).current()).token;
    await revokeToken(admin, old);
    const stale = new NeutronClient({ url: `http://${NEU_IP}:${NEUTRON_PORT}`, socketPath: neutron.socket, auth: { kind: 'token', projectId, token: async () => old } });
    await assert.rejects(stale.listNetworks(), (e: unknown) => e instanceof NeutronApiError && e.status === 401);
    assert.ok(Array.isArray(await api.listNetworks()));
    assert.notEqual((await sessionOf(o).current()).token, old);
  });
});
