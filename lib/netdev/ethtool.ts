// Transmit checksum offload switch through the legacy SIOCETHTOOL ioctl (ETHTOOL_STXCSUM).
// Needed on veths feeding a userspace (netdev) OVS bridge: AF_PACKET hands it packets with unfinished L4 checksums.
import { getLibc, NetdevError } from './ffi.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const SIOCETHTOOL = 0x8946;
const ETHTOOL_STXCSUM = 0x17;

/** A socket for ioctls; it acts on devices of the netns it was opened in. */
export function openIoctlSocket(): number {
  const c = getLibc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new NetdevError('opening ioctl socket', c.errno());
  return fd;
}

export function closeFd(fd: number): void {
  getLibc().close(fd);
}

export function setTxChecksum(ioctlFd: number, ifname: string, on: boolean): void {
  const c = getLibc();
  if (c.ioctlIfreq(ioctlFd, SIOCETHTOOL, { ifr_name: ifname, ifr_data: { cmd: ETHTOOL_STXCSUM, data: on ? 1 : 0 } }) < 0) {
    throw new NetdevError(`switching tx checksum offload ${on ? 'on' : 'off'} on ${ifname}`, c.errno());
  }
}
