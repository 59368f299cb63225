// Network namespaces and links the lab creates. Everything with an address lives in a netns made here.
import { run, succeeds } from './exec.js';

/** Names the kernel accepts for a netdev (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;

export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n !== '');
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await listNetns()).includes(name);
}

/** Creates a netns with loopback up; fails if it already exists (a leftover must be torn down first). */
export async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a netns if present. Its veths go with it; their peers in other netns vanish too. */
export async function delNetns(name: string): Promise<void> {
  if (await netnsExists(name)) await run('ip', ['netns', 'del', name]);
}

/** PIDs of processes still living in a netns (to report leftovers; the lab never kills by netns). */
export async function netnsPids(name: string): Promise<number[]> {
  const out = await run('ip', ['netns', 'pids', name]);
  return out.split('\n').filter((l) => l !== '').map(Number);
}

function checkIfname(name: string): void {
  if (name.length > MAX_IFNAME) throw new Error(`interface name ${name} is longer than ${MAX_IFNAME} characters`);
}

/** A veth pair with one end in each netns, both ends up. */
export async function addVeth(a: { netns: string; name: string }, b: { netns: string; name: string }, mtu = 1500): Promise<void> {
  checkIfname(a.name);
  checkIfname(b.name);
  await run('ip', ['-n', a.netns, 'link', 'add', a.name, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', b.name, 'netns', b.netns, 'mtu', String(mtu)]);
  await run('ip', ['-n', a.netns, 'link', 'set', a.name, 'up']);
  await run('ip', ['-n', b.netns, 'link', 'set', b.name, 'up']);
}

/**
 * TX checksum offload off. A netdev (userspace) OVS bridge reads veth packets through AF_PACKET with an
 * unfinished L4 checksum; userspace conntrack and the receiving kernel then drop TCP/UDP (ICMP still works).
 */
export async function txOff(netns: string, dev: string): Promise<void> {
  await run('ethtool', ['-K', dev, 'tx', 'off'], { netns });
}

export async function addAddr(netns: string, dev: string, cidr: string): Promise<void> {
  await run('ip', ['-n', netns, 'addr', 'add', cidr, 'dev', dev]);
}

export async function linkExists(netns: string, dev: string): Promise<boolean> {
  return succeeds('ip', ['-n', netns, 'link', 'show', dev]);
}

export async function linkMac(netns: string, dev: string): Promise<string> {
  const out = await run('ip', ['-n', netns, '-j', 'link', 'show', dev]);
  const links = JSON.parse(out) as Array<{ address: string }>;
  if (!links[0]) throw new Error(`no link ${dev} in netns ${netns}`);
  return links[0].address;
}
