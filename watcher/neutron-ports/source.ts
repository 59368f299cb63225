// The Neutron client of the pod-port mode, made from the Secret --neutron-secret names (read through the watcher's
// own Kubernetes client, RBAC: get on that one Secret). Kept for a minute, and read again after a failure, so a
// rotated password or endpoint is picked up without a restart.
import type { CoreV1Api } from '@kubernetes/client-node';
import { NeutronClient } from '../../lib/neutron/client.js';
import { neutronOptionsFromSecret, CredentialsError } from '../../lib/neutron/credentials.js';

const TTL_MS = 60_000;

export type SecretReader = () => Promise<Record<string, string>>;

/** Reads a Secret's data (base64-decoded) through the CoreV1 API. */
export function secretReader(core: CoreV1Api, ref: { namespace: string; name: string }): SecretReader {
  return async () => {
    let secret;
    try {
      secret = await core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
    } catch (e) {
      throw new CredentialsError(`Secret ${ref.namespace}/${ref.name}`, `could not be read: ${(e as Error).message.split('\n')[0]}`);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
    for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] ??= v;
    return out;
  };
}

export class NeutronSource {
  private client?: { c: NeutronClient; at: number };

  constructor(private readonly read: SecretReader, private readonly ttlMs = TTL_MS) {}

  async get(): Promise<NeutronClient> {
    if (this.client && Date.now() - this.client.at < this.ttlMs) return this.client.c;
    const c = new NeutronClient({ ...neutronOptionsFromSecret(await this.read()), timeoutMs: 10_000 });
    this.client = { c, at: Date.now() };
    return c;
  }

  /** After a failed request: the next get() reads the Secret again. */
  invalidate(): void {
    this.client = undefined;
  }
}
