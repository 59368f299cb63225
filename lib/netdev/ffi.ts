// libc through koffi: the handful of syscalls rtnetlink, setns and the ethtool ioctl need.
// Loaded lazily (koffi costs start-up time) and once. Inside the SEA executable `require` only sees builtins,
// so the native koffi module is taken from the SEA asset `koffi.node`, written to a root-only file and dlopen'ed.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as KoffiNs from 'koffi';

type Koffi = typeof KoffiNs;
type Fn = KoffiNs.KoffiFunction;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: null, alen: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  setns(fd: number, nstype: number): number;
  close(fd: number): number;
  /** ioctl(fd, req, struct ifreq *) with the ifreq given as a koffi struct object. */
  ioctlIfreq(fd: number, req: number, ifr: IfreqData): number;
  /** ioctl(fd, req) without an argument (NS_GET_NSTYPE). */
  ioctlNoArg(fd: number, req: number): number;
  /** bpf(cmd, attr, size) through syscall(2): glibc has no wrapper. */
  bpf(cmd: number, attr: Buffer, size: number): number;
  /** The address of a Buffer's memory, for pointers inside a struct (bpf_attr). */
  addressOf(buf: Buffer): bigint;
  errno(): number;
}

/** struct ifreq as used by SIOCETHTOOL: the name and a pointer to a struct ethtool_value. */
export interface IfreqData {
  ifr_name: string;
  ifr_data: { cmd: number; data: number };
}

let libc: Libc | undefined;
/** x86_64 and arm64 numbers of bpf(2). */
const SYS_BPF = process.arch === 'arm64' ? 280 : 321;
let nativeDir = '/var/run/tessera';

/** Where the SEA build writes the extracted native module (the agent's run dir). Call before loadLibc. */
export function setNativeDir(dir: string): void {
  nativeDir = dir;
}

function loadKoffi(): Koffi {
  // No dynamic import() here: the SEA runtime has no import callback, and its require only sees builtins.
  const sea = process.getBuiltinModule('node:sea');
  if (sea?.isSea()) {
    // Replicates the minimum of koffi's index.js: dlopen the .node file and use its exports as the module.
    mkdirSync(nativeDir, { recursive: true, mode: 0o700 });
    const file = join(nativeDir, 'koffi.node');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(sea.getAsset('koffi.node')), { mode: 0o700 });
    chmodSync(tmp, 0o700);
    renameSync(tmp, file);
    const mod: { exports: unknown } = { exports: {} };
    process.dlopen(mod, file);
    return mod.exports as Koffi;
  }
  return createRequire(import.meta.url)('koffi') as Koffi;
}

/** Binds the libc functions once; later calls return the same object. */
export async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const ethtoolValue = koffi.struct('tessera_ethtool_value', { cmd: 'uint32_t', data: 'uint32_t' });
  const ifreq = koffi.struct('tessera_ifreq_data', {
    ifr_name: koffi.array('char', 16, 'String'),
    ifr_data: koffi.pointer(ethtoolValue),
    _pad: koffi.array('uint8_t', 16),
  });
  const f = {
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('int bind(int, const void *, uint32_t)'),
    sendto: lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    recv: lib.func('intptr_t recv(int, _Out_ void *, size_t, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    setns: lib.func('int setns(int, int)'),
    close: lib.func('int close(int)'),
    ioctl: lib.func('ioctl', 'int', ['int', 'unsigned long', koffi.pointer(ifreq)]),
    ioctlNoArg: lib.func('ioctl', 'int', ['int', 'unsigned long']),
    syscall: lib.func('long syscall(long, long, void *, long)'),
  } satisfies Record<string, Fn>;
  libc = {
    socket: (a, b, c) => f.socket(a, b, c) as number,
    bind: (fd, addr, len) => f.bind(fd, addr, len) as number,
    sendto: (fd, buf, len, flags, addr, alen) => Number(f.sendto(fd, buf, len, flags, addr, alen)),
    recv: (fd, buf, len, flags) => Number(f.recv(fd, buf, len, flags)),
    setsockopt: (fd, level, name, val, len) => f.setsockopt(fd, level, name, val, len) as number,
    setns: (fd, t) => f.setns(fd, t) as number,
    close: (fd) => f.close(fd) as number,
    ioctlIfreq: (fd, req, ifr) => f.ioctl(fd, req, { ...ifr, _pad: new Array(16).fill(0) }) as number,
    ioctlNoArg: (fd, req) => f.ioctlNoArg(fd, req) as number,
    bpf: (cmd, attr, size) => Number(f.syscall(SYS_BPF, cmd, attr, size)),
    addressOf: (buf) => koffi.address(buf),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** The loaded libc; throws if loadLibc() was not awaited first (a programming error). */
export function getLibc(): Libc {
  if (!libc) throw new Error('lib/netdev used before loadLibc()');
  return libc;
}

const errnoNames = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.errno)) if (!errnoNames.has(n)) errnoNames.set(n, name);

/** "EEXIST" for 17; "errno 999" for unknown numbers. */
export const errnoName = (n: number): string => errnoNames.get(n) ?? `errno ${n}`;

/** An OS error that names what was being done and the errno symbol. */
export class NetdevError extends Error {
  constructor(
    readonly what: string,
    readonly errno: number,
    extMsg?: string,
  ) {
    super(`${what}: ${errnoName(errno)}${extMsg ? ` (${extMsg})` : ''}`);
  }
}
