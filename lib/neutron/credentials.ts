// Neutron client options from a Kubernetes Secret's data (or an openrc-style env file): the OS_* keys an OpenStack
// operator already has, or a clouds.yaml. Every value is validated before use; errors name the key, never a value.
import yaml from 'js-yaml';
import type { NeutronClientOptions } from './client.js';
import { KeystoneSession, type EndpointInterface, type KeystonePasswordOptions } from './keystone.js';

/** A credentials key is missing or malformed; `key` names it (OS_AUTH_URL, clouds.yaml, …). */
export class CredentialsError extends Error {
  constructor(readonly key: string, problem: string) {
    super(`credentials: ${key} ${problem}`);
    this.name = 'CredentialsError';
  }
}

/** How the lab reaches daemons inside a netns: unix sockets forwarded to Keystone and Neutron. */
export interface ReachOptions {
  keystoneSocket?: string;
  neutronSocket?: string;
  now?: () => number;
}

const INTERFACES: readonly EndpointInterface[] = ['public', 'internal', 'admin'];
// Any C0/C1 control character or DEL: a stray newline from `echo pw | base64` ends up here.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const PEM_BUNDLE = /^(?:-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;

export function neutronOptionsFromSecret(data: Record<string, string>, reach: ReachOptions = {}): NeutronClientOptions {
  const d = { ...(data['clouds.yaml'] !== undefined ? fromCloudsYaml(data['clouds.yaml'], data['OS_CLOUD']) : {}), ...osKeys(data) };
  const authType = optional(d, 'OS_AUTH_TYPE') ?? 'password';
  const endpoint = optionalUrl(d, 'OS_ENDPOINT');
  const caCert = optionalPem(d, 'OS_CACERT');
  if (authType === 'noauth') {
    if (!endpoint) throw new CredentialsError('OS_ENDPOINT', 'is required with OS_AUTH_TYPE=noauth');
    return { url: endpoint, socketPath: reach.neutronSocket, caCert, auth: { kind: 'noauth', projectId: projectIdOf(required(d, 'OS_PROJECT_ID')) } };
  }
  if (authType !== 'password' && authType !== 'v3password') throw new CredentialsError('OS_AUTH_TYPE', 'must be password or noauth');
  const version = optional(d, 'OS_IDENTITY_API_VERSION');
  if (version !== undefined && version !== '3') throw new CredentialsError('OS_IDENTITY_API_VERSION', 'must be 3 (Keystone v3)');
  const session = new KeystoneSession({ ...keystoneOptions(d), caCert, socketPath: reach.keystoneSocket, now: reach.now });
  return { url: endpoint ?? '', socketPath: reach.neutronSocket, caCert, auth: { kind: 'keystone', session } };
}

/** Keystone password options from validated OS_* keys (without transport details). */
export function keystoneOptions(d: Record<string, string>): KeystonePasswordOptions {
  const projectId = mapDefined(optional(d, 'OS_PROJECT_ID'), projectIdOf);
  const projectName = optional(d, 'OS_PROJECT_NAME');
  if (!projectId && !projectName) throw new CredentialsError('OS_PROJECT_NAME', 'or OS_PROJECT_ID is required');
  const iface = optional(d, 'OS_INTERFACE') ?? 'public';
  if (!(INTERFACES as readonly string[]).includes(iface)) throw new CredentialsError('OS_INTERFACE', `must be one of ${INTERFACES.join(', ')}`);
  return {
    authUrl: requiredUrl(d, 'OS_AUTH_URL'),
    username: required(d, 'OS_USERNAME'),
    password: required(d, 'OS_PASSWORD'),
    userDomainName: optional(d, 'OS_USER_DOMAIN_NAME') ?? 'Default',
    project: projectId ? { id: projectId } : { name: projectName!, domainName: optional(d, 'OS_PROJECT_DOMAIN_NAME') ?? 'Default' },
    region: optional(d, 'OS_REGION_NAME'),
    interface: iface as EndpointInterface,
  };
}

/** Only the OS_* keys, so a Secret may carry other keys (clouds.yaml, a kubeconfig) without tripping validation. */
function osKeys(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith('OS_')));
}

function optional(d: Record<string, string>, key: string): string | undefined {
  const v = d[key];
  if (v === undefined || v === '') return undefined;
  if (CONTROL.test(v)) throw new CredentialsError(key, 'contains a control character (a trailing newline?)');
  if (v.length > 4096) throw new CredentialsError(key, 'is longer than 4096 characters');
  return v;
}

/** Keystone project ids are hex UUIDs; a noauth Neutron takes any name. Either way no '/', space or quote. */
function projectIdOf(v: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new CredentialsError('OS_PROJECT_ID', 'is not a project id (1-64 letters, digits, "_", "." or "-")');
  return v;
}

const mapDefined = <T, U>(v: T | undefined, f: (x: T) => U): U | undefined => (v === undefined ? undefined : f(v));

function required(d: Record<string, string>, key: string): string {
  const v = optional(d, key);
  if (v === undefined) throw new CredentialsError(key, 'is required');
  return v;
}

function optionalUrl(d: Record<string, string>, key: string): string | undefined {
  const v = optional(d, key);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new CredentialsError(key, 'is not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CredentialsError(key, 'must be an http:// or https:// URL');
  if (u.username || u.password) throw new CredentialsError(key, 'must not carry a user or password');
  if (u.search || u.hash) throw new CredentialsError(key, 'must not have a query or fragment');
  return v;
}

function requiredUrl(d: Record<string, string>, key: string): string {
  const v = optionalUrl(d, key);
  if (v === undefined) throw new CredentialsError(key, 'is required');
  return v;
}

function optionalPem(d: Record<string, string>, key: string): string | undefined {
  const v = d[key];
  if (v === undefined || v === '') return undefined;
  if (!PEM_BUNDLE.test(v.trim())) throw new CredentialsError(key, 'must hold PEM certificates (-----BEGIN CERTIFICATE----- …), not a path');
  return v;
}

type CloudsYaml = { clouds?: Record<string, CloudEntry> };
type CloudEntry = {
  auth_type?: unknown; region_name?: unknown; interface?: unknown; identity_api_version?: unknown; network_endpoint_override?: unknown;
  auth?: Record<string, unknown>;
};

/** OS_* keys from a clouds.yaml: the cloud OS_CLOUD names, or its only cloud. `cacert` there is a path, so unsupported. */
function fromCloudsYaml(text: string, cloud: string | undefined): Record<string, string> {
  let doc: CloudsYaml;
  try {
    doc = yaml.load(text, { schema: yaml.JSON_SCHEMA }) as CloudsYaml;
  } catch (e) {
    throw new CredentialsError('clouds.yaml', `is not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const clouds = doc?.clouds;
  if (typeof clouds !== 'object' || clouds === null) throw new CredentialsError('clouds.yaml', 'has no "clouds" map');
  const names = Object.keys(clouds);
  const name = cloud ?? (names.length === 1 ? names[0] : undefined);
  if (!name) throw new CredentialsError('OS_CLOUD', `is required to pick one of the clouds in clouds.yaml (${names.join(', ')})`);
  const c = clouds[name];
  if (typeof c !== 'object' || c === null) throw new CredentialsError('OS_CLOUD', `names no cloud in clouds.yaml (${names.join(', ')})`);
  const a = c.auth ?? {};
  const pairs: [string, unknown][] = [
    ['OS_AUTH_TYPE', c.auth_type], ['OS_REGION_NAME', c.region_name], ['OS_INTERFACE', c.interface],
    ['OS_IDENTITY_API_VERSION', c.identity_api_version], ['OS_ENDPOINT', c.network_endpoint_override],
    ['OS_AUTH_URL', a['auth_url']], ['OS_USERNAME', a['username']], ['OS_PASSWORD', a['password']],
    ['OS_PROJECT_NAME', a['project_name']], ['OS_PROJECT_ID', a['project_id']],
    ['OS_USER_DOMAIN_NAME', a['user_domain_name']], ['OS_PROJECT_DOMAIN_NAME', a['project_domain_name']],
  ];
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw new CredentialsError('clouds.yaml', `${k.slice(3).toLowerCase()} of cloud ${name} must be a string`);
    out[k] = String(v);
  }
  return out;
}
