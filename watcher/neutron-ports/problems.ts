// What a user sees when Neutron cannot give a pod its port: the Warning Event reason and message for each kind of
// failure (controllers/pod-problems.ts reports them once per distinct problem and writes pod-network-error).
import { NeutronApiError, NeutronUnreachableError } from '../../lib/neutron/client.js';
import { CredentialsError } from '../../lib/neutron/credentials.js';
import type { Problem } from '../controllers/pod-problems.js';
import { PortTranslationError, VlanExhaustedError } from './translate.js';

export const NEUTRON_REASON = {
  unreachable: 'NeutronUnreachable',
  overQuota: 'NeutronQuotaExceeded',
  failed: 'NeutronRequestFailed',
  credentials: 'NeutronCredentialsInvalid',
  parentRefused: 'NestedParentPortRefused',
  vlanExhausted: 'VlanIdsExhausted',
  namespaceRefused: 'NeutronNamespaceConfigRefused',
  bindingFailed: 'NeutronBindingFailed',
} as const;

/** A nested node's parent port, or a Namespace's Neutron choice, that the watcher will not use. */
export class NeutronRefusal extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'NeutronRefusal';
  }
}

/** A baremetal pod's port that Neutron could not bind to its node: retried by the port-up poll. */
export function bindingProblem(portId: string, host: string, vifType: string | undefined): Problem {
  return {
    reason: NEUTRON_REASON.bindingFailed, allocation: true, retry: true,
    message: `Neutron could not bind port ${portId} to host ${host} (binding:vif_type ${vifType ?? 'unset'}; is the node's OVN chassis registered?); retrying`,
  };
}

/** Every Neutron problem blocks the pod's network (pod-network-error) and is retried with backoff. */
export function classifyNeutron(err: unknown): Problem | undefined {
  const p = (reason: string, message: string): Problem => ({ reason, message, allocation: true, retry: true });
  if (err instanceof NeutronUnreachableError) return p(NEUTRON_REASON.unreachable, `Neutron API unreachable: ${err.message}; retrying`);
  if (err instanceof NeutronApiError && err.type === 'OverQuota') return p(NEUTRON_REASON.overQuota, `Neutron port quota exceeded: ${err.message}; retrying`);
  if (err instanceof NeutronApiError) return p(NEUTRON_REASON.failed, `Neutron refused a request: ${err.message}; retrying`);
  if (err instanceof CredentialsError) return p(NEUTRON_REASON.credentials, `Neutron credentials: ${err.message}`);
  if (err instanceof VlanExhaustedError) return p(NEUTRON_REASON.vlanExhausted, err.message);
  if (err instanceof PortTranslationError) return p(NEUTRON_REASON.failed, err.message);
  if (err instanceof NeutronRefusal) return p(err.reason, err.message);
  return undefined;
}
