// In-process network device work (rtnetlink, setns, ethtool) over libc via koffi. Call loadLibc() once first.
export { loadLibc, setNativeDir, errnoName, NetdevError } from './ffi.js';
export { RtnlSocket, type RouteSpec, type VethSpec, type VlanSpec } from './rtnl.js';
export { netnsIdOf, NotNetnsError, openNetns, openNetnsChecked, sameNetns, withNetns, withNetnsFd, type NetnsId } from './netns.js';
export { openIoctlSocket, setTxChecksum, closeFd } from './ethtool.js';
export { NodeNetdev, inspectPod, sameAddress, sameNet, type PodLinkResult, type PodLinkSpec, type PodLinkState } from './podlink.js';
export type { AddrInfo, LinkInfo, RouteInfo } from './nlmsg.js';
export { IFF_UP, AF_INET, AF_INET6 } from './nlmsg.js';
