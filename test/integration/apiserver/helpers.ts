// Shared bits for the API test double's integration tests.
import * as k8s from '@kubernetes/client-node';

export function kubeConfig(server: string, token?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  // client-node refuses plain http unless skipTLSVerify is set (there is no TLS to verify).
  kc.loadFromClusterAndUser({ name: 'test', server, skipTLSVerify: true }, { name: 'test', ...(token ? { token } : {}) });
  return kc;
}

/** Polls `pred` every `intervalMs` until it holds; rejects naming `what` after `timeoutMs`. */
export async function until(what: string, pred: () => boolean, timeoutMs = 5000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const podSpec = { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] };

export function codeOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}
