// Lab pods: a netns per pod, handed to tessera-cni through cnitool, and the names the CNI contract derives from it.
import { createHash } from 'node:crypto';
import { addNetns } from './netns.js';

export const POD_IFNAME = 'eth0';

/** Host-side veth name as agreed for the CNI: veth + 11 hex of sha256("<containerId>/<ifname>"). */
export function hostVethName(containerId: string, ifname: string): string {
  return 'veth' + createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11);
}

/** The container id cnitool uses for a netns path: "cnitool-" + 20 hex of sha512(path). */
export function cnitoolContainerId(netnsPath: string): string {
  return 'cnitool-' + createHash('sha512').update(netnsPath).digest('hex').slice(0, 20);
}

export const netnsPath = (netns: string): string => `/var/run/netns/${netns}`;

export interface LabPodSpec {
  namespace: string;
  name: string;
  node: string;
  labels?: Record<string, string>;
  /** Set on the Pod object when it is created (e.g. ovn.kubernetes.io/ip_address). */
  annotations?: Record<string, string>;
}

export async function createPodNetns(netns: string): Promise<void> {
  await addNetns(netns);
}
