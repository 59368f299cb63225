// The agent's node in Kuryr's baremetal mode: the agent runs with --neutron-ports, and a real neutron-server (ML2/OVN)
// writes into the node's OVN central, so the node's chassis is Neutron's; the pods' network is one Neutron network.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AgentFixture } from './fixture.js';
import { neutronClient, startNeutron, stopNeutron, type Neutron } from '../../../lab/openstack/neutron.js';
import type { NeutronClient } from '../../../lib/neutron/client.js';
import type { NeutronNetwork, NeutronSubnet } from '../../../lib/neutron/types.js';

export interface NodeNeutron {
  neutron: Neutron;
  api: NeutronClient;
  /** The network and subnet "pods". */
  network: NeutronNetwork;
  subnet: NeutronSubnet;
}

export class NeutronPortsFixture extends AgentFixture {
  override agentArgs(): string[] {
    return [...super.agentArgs(), '--neutron-ports'];
  }

  /**
   * Starts the node (not its agent) and neutron-server on its OVN in `dir`/neutron, with network and subnet "pods" on
   * `cidr`. `dir` starts empty and lies outside the fixture's mode-700 dir: MariaDB runs as the mysql user.
   */
  async startWithNeutron(dir: string, cidr: string): Promise<NodeNeutron> {
    await stopNeutron(join(dir, 'neutron')).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await this.start();
    const neutron = await startNeutron({ dir: join(dir, 'neutron'), netns: this.nodeNs, nb: `unix:${this.central.nbSocket}`, sb: `unix:${this.central.sbSocket}` });
    const api = neutronClient(neutron);
    const network = await api.createNetwork('pods');
    const subnet = await api.createSubnet({ name: 'pods', network_id: network.id, cidr });
    return { neutron, api, network, subnet };
  }
}
