// CNI_NETNS comes from the runtime and is resolved inside the agent's process: "/proc/self/ns/net" there is the
// agent's own (the node's) netns. A pod netns must be a network namespace, and neither the agent's own nor PID 1's
// (the host's, when the agent sees the host PIDs). Namespaces are compared by nsfs device and inode, so a bind
// mount or another /proc/<pid> path naming the node's netns is refused too.
import { closeSync } from 'node:fs';
import { CniError, CniErrorCode } from '../lib/cni-protocol.js';
import { netnsIdOf, NotNetnsError, openNetnsChecked, sameNetns } from '../lib/netdev/index.js';

/** Netns files that name namespaces a pod must never be wired into. */
const HOST_NETNS_PATHS = ['/proc/self/ns/net', '/proc/1/ns/net'];

/** Opens CNI_NETNS after checking it; the caller closes the fd. Refusals are CNI code 4 and name the path. */
export function openPodNetns(path: string): number {
  let opened: ReturnType<typeof openNetnsChecked>;
  try {
    opened = openNetnsChecked(path);
  } catch (err) {
    if (err instanceof NotNetnsError) throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${path} is not a network namespace (${err.reason})`);
    throw err;
  }
  for (const host of HOST_NETNS_PATHS) {
    if (sameNetns(opened.id, netnsIdOf(host))) {
      closeSync(opened.fd);
      throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${path} is the node's own network namespace (same as ${host}); a pod needs its own`);
    }
  }
  return opened.fd;
}

/** Runs fn with the checked pod netns fd and closes it afterwards. */
export function withPodNetns<T>(path: string, fn: (fd: number) => T): T {
  const fd = openPodNetns(path);
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}
