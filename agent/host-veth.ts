// On the userspace datapath, ovs-vswitchd reads a pod's host-side veth through AF_PACKET, which does not take the
// frames away from the node's own stack: the host also sees everything the pod sends. Left alone, the host answers
// the pod's ARP for the management port's address with the veth's MAC (racing OVN's answer, so the pod's replies to
// the host bypass br-int, and with them the un-DNAT of service connections from the host), and takes the pod's
// packets to host addresses straight from the veth. With no ARP answers (arp_ignore 8) and strict reverse-path
// filtering (the way back to a pod is the management port, never its veth), the host only talks to pods through OVN.
import { writeFileSync } from 'node:fs';

const conf = (dev: string, key: string): string => `/proc/sys/net/ipv4/conf/${dev}/${key}`;

/** Validated before it becomes part of a /proc path: a kernel interface name. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function isolateHostVeth(dev: string, write: (path: string, value: string) => void = (p, v) => writeFileSync(p, v)): void {
  if (!IFNAME.test(dev)) throw new Error(`host veth name ${JSON.stringify(dev)} is not an interface name`);
  write(conf(dev, 'arp_ignore'), '8');
  write(conf(dev, 'rp_filter'), '1');
}
