// The one switch between the lab's script logic and the real Tessera components. Flip a default here to make
// `make lab` run the real piece; tests pass `components` to startLab() to choose per test.

export interface Components {
  /** Run the Kubernetes API test server in the central netns, with Node/Pod/Service objects for the lab. */
  apiserver: boolean;
  /**
   * tessera-watcher builds the NB topology and pod ports and annotates Nodes/Pods (else: the lab's ovn-nbctl
   * script logic does, and writes the same annotations itself when the apiserver runs).
   */
  watcher: boolean;
  /** tessera-agent on every node, pods wired by cnitool → tessera-cni (else: the lab wires veths itself). */
  agent: boolean;
}

export const DEFAULT_COMPONENTS: Components = { apiserver: true, watcher: true, agent: true };

export function resolveComponents(over: Partial<Components> = {}): Components {
  const c = { ...DEFAULT_COMPONENTS, ...over };
  if ((c.watcher || c.agent) && !c.apiserver) throw new Error('lab components: watcher and agent need the apiserver (set apiserver: true)');
  return c;
}
