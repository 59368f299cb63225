// Names and tags of what the gateway creates. OVN object names follow ovn-kubernetes so operators recognise them.
import { CLUSTER_ROUTER, OWNER_KEY, gatewayRouter } from '../lib/names.js';

export const OWNER = 'tessera-gateway';
/** Which gateway node a row belongs to (every row the gateway creates carries it). */
export const NODE_KEY = 'tessera.io/gateway-node';
/** The join address allocated to GR_<node>, recorded on the router itself. */
export const JOIN_IP_KEY = 'tessera.io/join-ip';
/** What a row is for, so reconcile can diff routes and NATs that have no name. */
export const ROLE_KEY = 'tessera.io/role';

export const grJoinPort = (node: string): string => `rtoj-${gatewayRouter(node)}`;
export const joinGrPort = (node: string): string => `jtor-${gatewayRouter(node)}`;
export const grExternalPort = (node: string): string => `rtoe-${gatewayRouter(node)}`;
export const extGrPort = (node: string): string => `etor-${gatewayRouter(node)}`;
export const localnetPort = (bridge: string, node: string): string => `${bridge}_${node}`;
/** The cluster router's port on the join switch, if the gateway has to create it. */
export const clusterJoinPort = `rtoj-${CLUSTER_ROUTER}`;
export const joinClusterPort = `jtor-${CLUSTER_ROUTER}`;

export const ownedBy = (node: string, role?: string): Record<string, string> => ({
  [OWNER_KEY]: OWNER,
  [NODE_KEY]: node,
  ...(role ? { [ROLE_KEY]: role } : {}),
});
