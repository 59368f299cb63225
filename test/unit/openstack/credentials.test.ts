// tessera-openstack's credentials: an openrc-style file or the OS_* environment, never a flag; bad lines are refused
// by line number, without echoing them.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../lib/cli.js';
import { KeystoneSession } from '../../../lib/neutron/keystone.js';
import { credentialsData, neutronOptions, parseEnvFile } from '../../../openstack/credentials.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ3Vlc3Q=\n-----END CERTIFICATE-----\n';

describe('tessera-openstack credentials', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-oscred-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses KEY=VALUE lines with comments, export and quotes', () => {
    const text = "# openrc\n\nOS_AUTH_URL=http://ks:5000/v3\nexport OS_USERNAME=\"svc\"\nOS_PASSWORD='p$w`d \"x'\r\nOS_PROJECT_NAME=k8s\n";
    assert.deepEqual(parseEnvFile(text, 'f'), { OS_AUTH_URL: 'http://ks:5000/v3', OS_USERNAME: 'svc', OS_PASSWORD: 'p$w`d "x', OS_PROJECT_NAME: 'k8s' });
  });

  it('refuses lines that are not KEY=VALUE and shell expansion, by line number without the value', () => {
    assert.throws(() => parseEnvFile('OS_A=1\nsecret-pass\n', 'f'), (e: unknown) => e instanceof ConfigError && e.message === 'f:2: not a KEY=VALUE line');
    assert.throws(() => parseEnvFile('OS_PASSWORD=$OS_PASSWORD_INPUT\n', 'f'), (e: unknown) =>
      e instanceof ConfigError && /f:1: OS_PASSWORD uses shell expansion/.test(e.message) && !e.message.includes('INPUT'));
    assert.throws(() => parseEnvFile('OS_PASSWORD="a$b"\n', 'f'), /shell expansion/);
  });

  it('takes the file when given, else the OS_* environment, and names what is missing', () => {
    const file = join(dir, 'openrc');
    writeFileSync(file, 'OS_AUTH_TYPE=noauth\nOS_ENDPOINT=http://n:9696\nOS_PROJECT_ID=p\n');
    const env = { OS_AUTH_URL: 'http://ks/v3', OS_USERNAME: 'u', OS_PASSWORD: 'pw', OS_PROJECT_NAME: 'p', HOME: '/root' };
    assert.deepEqual(neutronOptions(file, env).auth, { kind: 'noauth', projectId: 'p' });
    const fromEnv = neutronOptions(undefined, env);
    assert.ok(fromEnv.auth.kind === 'keystone' && fromEnv.auth.session instanceof KeystoneSession);
    assert.equal(fromEnv.auth.session.options.username, 'u');
    assert.throws(() => neutronOptions(undefined, { HOME: '/root' }), (e: unknown) => e instanceof ConfigError && /--credentials-file/.test(e.message));
    assert.throws(() => neutronOptions(join(dir, 'missing'), env), (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message));
    assert.throws(() => neutronOptions(undefined, { ...env, OS_AUTH_URL: 'ftp://x' }), (e: unknown) => e instanceof ConfigError && /OS_AUTH_URL/.test(e.message));
  });

  it('reads OS_CACERT as a path, as an openrc has it, or takes PEM text', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, CERT);
    assert.equal(credentialsData(undefined, { OS_CACERT: ca })['OS_CACERT'], CERT);
    assert.equal(credentialsData(undefined, { OS_CACERT: CERT })['OS_CACERT'], CERT);
    assert.throws(() => credentialsData(undefined, { OS_CACERT: join(dir, 'nope.pem') }), /OS_CACERT .*ENOENT/);
  });
});
