// Neutron client options from a Kubernetes Secret's data (the keys an OpenStack clouds.yaml / openrc uses). This
// build reads noauth only (the lab's Neutron): OS_AUTH_TYPE=noauth, OS_ENDPOINT (Neutron's URL) and the project.
// Keystone password auth (lib/neutron/keystone.ts) plugs in here with the same signature.
import type { NeutronClientOptions } from './client.js';

export class NeutronCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeutronCredentialsError';
  }
}

/** The project id Neutron scopes requests to: ids are hex/dashes, names a printable word. */
const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Options for NeutronClient from the Secret's (decoded) data; throws NeutronCredentialsError naming the key. */
export function neutronOptionsFromSecret(data: Record<string, string>): NeutronClientOptions {
  const get = (k: string): string | undefined => {
    const v = data[k]?.trim();
    return v ? v : undefined;
  };
  const type = get('OS_AUTH_TYPE') ?? 'password';
  if (type !== 'noauth') throw new NeutronCredentialsError(`OS_AUTH_TYPE "${type}" is not supported by this build (want noauth)`);
  const endpoint = get('OS_ENDPOINT');
  if (!endpoint) throw new NeutronCredentialsError('OS_ENDPOINT (the Neutron URL) is required with OS_AUTH_TYPE=noauth');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new NeutronCredentialsError(`OS_ENDPOINT "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NeutronCredentialsError(`OS_ENDPOINT "${endpoint}": scheme must be http or https`);
  const project = get('OS_PROJECT_ID') ?? get('OS_PROJECT_NAME');
  if (!project) throw new NeutronCredentialsError('OS_PROJECT_ID (or OS_PROJECT_NAME) is required');
  if (!PROJECT_RE.test(project)) throw new NeutronCredentialsError(`OS_PROJECT_ID "${project}" is not a project id`);
  return { url: endpoint.replace(/\/+$/, '').replace(/\/v2\.0$/, ''), auth: { kind: 'noauth', projectId: project } };
}
