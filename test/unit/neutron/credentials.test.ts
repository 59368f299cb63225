// neutronOptionsFromSecret: the OS_* keys of a Secret (or a clouds.yaml in it) become Neutron client options; every
// missing or malformed key gets an error that names it and never echoes a value.
import { strict as assert } from 'node:assert';
import { CredentialsError, neutronOptionsFromSecret } from '../../../lib/neutron/credentials.js';
import { inspect } from 'node:util';
import { KeystoneSession, type KeystonePasswordOptions } from '../../../lib/neutron/keystone.js';
import type { NeutronClientOptions } from '../../../lib/neutron/client.js';

const BASE = { OS_AUTH_URL: 'https://keystone.example:5000/v3', OS_USERNAME: 'tessera', OS_PASSWORD: 'pa ss"word', OS_PROJECT_NAME: 'k8s' };
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ3Vlc3Q=\n-----END CERTIFICATE-----\n';

/** The KeystoneSession's options (all but the password), read back from the session the parser built. */
function keystoneOf(o: NeutronClientOptions): Omit<KeystonePasswordOptions, 'password'> {
  assert.ok(o.auth.kind === 'keystone' && o.auth.session instanceof KeystoneSession);
  return o.auth.session.options;
}

function rejectsKey(data: Record<string, string>, key: string, problem: RegExp): void {
  assert.throws(() => neutronOptionsFromSecret(data), (e: unknown) => {
    assert.ok(e instanceof CredentialsError, String(e));
    assert.equal(e.key, key);
    assert.match(e.message, problem);
    assert.ok(!e.message.includes('pa ss"word'), e.message);
    return true;
  });
}

describe('neutron credentials from a Secret', () => {
  it('password auth with defaults: Default domains, public interface, endpoint from the catalog', () => {
    const o = neutronOptionsFromSecret(BASE);
    assert.equal(o.url, '');
    assert.deepEqual(keystoneOf(o), {
      authUrl: BASE.OS_AUTH_URL, username: 'tessera', userDomainName: 'Default',
      project: { name: 'k8s', domainName: 'Default' }, region: undefined, interface: 'public', caCert: undefined, socketPath: undefined, now: undefined,
    });
  });

  it('never shows the password when the options are logged or serialised', () => {
    const o = neutronOptionsFromSecret(BASE);
    assert.ok(!inspect(o, { depth: 20, showHidden: true }).includes('pa ss'), inspect(o, { depth: 20 }));
    assert.ok(!JSON.stringify(o).includes('pa ss'));
  });

  it('takes project id, domains, region, interface, endpoint and CA', () => {
    const o = neutronOptionsFromSecret({ ...BASE, OS_PROJECT_ID: 'p1', OS_USER_DOMAIN_NAME: 'ldap', OS_REGION_NAME: 'r2',
      OS_INTERFACE: 'internal', OS_ENDPOINT: 'http://neutron:9696', OS_CACERT: CERT, OS_AUTH_TYPE: 'password', OS_IDENTITY_API_VERSION: '3' });
    assert.equal(o.url, 'http://neutron:9696');
    assert.equal(o.caCert, CERT);
    const k = keystoneOf(o);
    assert.deepEqual(k.project, { id: 'p1' });
    assert.equal(k.userDomainName, 'ldap');
    assert.equal(k.region, 'r2');
    assert.equal(k.interface, 'internal');
    assert.equal(k.caCert, CERT);
  });

  it('noauth needs OS_ENDPOINT and OS_PROJECT_ID, and no Keystone keys', () => {
    const o = neutronOptionsFromSecret({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'http://10.0.0.1:9696', OS_PROJECT_ID: 'lab' });
    assert.deepEqual(o, { url: 'http://10.0.0.1:9696', socketPath: undefined, caCert: undefined, auth: { kind: 'noauth', projectId: 'lab' } });
    rejectsKey({ OS_AUTH_TYPE: 'noauth', OS_PROJECT_ID: 'lab' }, 'OS_ENDPOINT', /required/);
    rejectsKey({ OS_AUTH_TYPE: 'noauth', OS_ENDPOINT: 'http://n:9696' }, 'OS_PROJECT_ID', /required/);
  });

  it('names each missing key', () => {
    for (const key of ['OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD'] as const) {
      const d: Record<string, string> = { ...BASE };
      delete d[key];
      rejectsKey(d, key, /is required/);
    }
    rejectsKey({ ...BASE, OS_PROJECT_NAME: '' }, 'OS_PROJECT_NAME', /or OS_PROJECT_ID is required/);
  });

  it('refuses bad values, naming the key and not the value', () => {
    rejectsKey({ ...BASE, OS_AUTH_URL: 'ftp://keystone/v3' }, 'OS_AUTH_URL', /http:\/\/ or https:\/\//);
    rejectsKey({ ...BASE, OS_AUTH_URL: 'keystone:5000' }, 'OS_AUTH_URL', /http/);
    rejectsKey({ ...BASE, OS_AUTH_URL: 'not a url' }, 'OS_AUTH_URL', /not a URL/);
    rejectsKey({ ...BASE, OS_AUTH_URL: 'http://u:p@keystone/v3' }, 'OS_AUTH_URL', /user or password/);
    rejectsKey({ ...BASE, OS_ENDPOINT: 'javascript:alert(1)' }, 'OS_ENDPOINT', /http/);
    rejectsKey({ ...BASE, OS_PASSWORD: 'pa ss"word\n' }, 'OS_PASSWORD', /control character/);
    rejectsKey({ ...BASE, OS_USERNAME: 'a\u0000b' }, 'OS_USERNAME', /control character/);
    rejectsKey({ ...BASE, OS_REGION_NAME: 'r\u009b1' }, 'OS_REGION_NAME', /control character/);
    rejectsKey({ ...BASE, OS_INTERFACE: 'publicURL' }, 'OS_INTERFACE', /public, internal, admin/);
    rejectsKey({ ...BASE, OS_AUTH_TYPE: 'token' }, 'OS_AUTH_TYPE', /password or noauth/);
    rejectsKey({ ...BASE, OS_IDENTITY_API_VERSION: '2' }, 'OS_IDENTITY_API_VERSION', /3/);
    rejectsKey({ ...BASE, OS_CACERT: '/etc/ssl/ca.pem' }, 'OS_CACERT', /PEM/);
    rejectsKey({ ...BASE, OS_CACERT: `${CERT}-----BEGIN CERTIFICATE-----\nAAAA\n` }, 'OS_CACERT', /PEM/);
  });

  it('ignores keys that are not OS_* (a Secret may hold more)', () => {
    assert.equal(keystoneOf(neutronOptionsFromSecret({ ...BASE, 'ca.crt': 'x\n', token: 'y' })).username, 'tessera');
  });

  it('reads a clouds.yaml key, OS_* keys overriding it', () => {
    const clouds = [
      'clouds:', '  prod:', '    auth:', '      auth_url: https://ks.example/v3', '      username: svc', '      password: "s3cret"',
      '      project_name: k8s', '      project_domain_name: corp', '      user_domain_name: corp', '    region_name: r1',
      '    interface: internal', '    identity_api_version: 3', '  other:', '    auth: {auth_url: "http://o/v3"}',
    ].join('\n');
    const k = keystoneOf(neutronOptionsFromSecret({ 'clouds.yaml': clouds, OS_CLOUD: 'prod', OS_REGION_NAME: 'r9' }));
    assert.deepEqual([k.authUrl, k.username, k.userDomainName, k.project, k.region, k.interface],
      ['https://ks.example/v3', 'svc', 'corp', { name: 'k8s', domainName: 'corp' }, 'r9', 'internal']);
    assert.throws(() => neutronOptionsFromSecret({ 'clouds.yaml': clouds }), (e: unknown) => e instanceof CredentialsError && e.key === 'OS_CLOUD');
    assert.throws(() => neutronOptionsFromSecret({ 'clouds.yaml': clouds, OS_CLOUD: 'nope' }), (e: unknown) => e instanceof CredentialsError && e.key === 'OS_CLOUD');
    assert.throws(() => neutronOptionsFromSecret({ 'clouds.yaml': 'clouds: [' }), (e: unknown) => e instanceof CredentialsError && e.key === 'clouds.yaml');
    assert.throws(() => neutronOptionsFromSecret({ 'clouds.yaml': 'clouds: {a: {auth: {password: [1]}}}' }),
      (e: unknown) => e instanceof CredentialsError && e.key === 'clouds.yaml' && /password/.test(e.message));
  });
});
