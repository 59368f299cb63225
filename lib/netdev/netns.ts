// Entering a network namespace for a moment, synchronously, on the main thread.
// Only the calling thread moves (setns), and no event-loop turn happens before it moves back, so nothing else in
// the process runs inside the other netns. Sockets opened meanwhile stay bound to that netns after we return.
import { closeSync, constants as fsConstants, fstatSync, openSync, statfsSync, statSync, type Stats } from 'node:fs';
import { errnoName, getLibc, NetdevError } from './ffi.js';
import { constants as osConstants } from 'node:os';

const CLONE_NEWNET = 0x40000000;

/** Opens a netns file (/var/run/netns/X, /proc/PID/ns/net) read-only; errors name the path. */
export function openNetns(path: string, extraFlags = 0): number {
  try {
    return openSync(path, fsConstants.O_RDONLY | extraFlags); // libuv adds O_CLOEXEC itself
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const n = (osConstants.errno as Record<string, number>)[code] ?? 5;
    throw new NetdevError(`opening netns ${path}`, n);
  }
}

/** Runs fn inside the netns behind nsFd and always comes back; returns what fn returned. */
export function withNetnsFd<T>(nsFd: number, label: string, fn: () => T): T {
  const c = getLibc();
  const self = openNetns('/proc/thread-self/ns/net');
  try {
    if (c.setns(nsFd, CLONE_NEWNET) < 0) throw new NetdevError(`entering netns ${label}`, c.errno());
    try {
      return fn();
    } finally {
      if (c.setns(self, CLONE_NEWNET) < 0) {
        // Carrying on in the wrong netns would configure the wrong host: stop the process instead.
        process.stderr.write(`fatal: cannot return to own netns after ${label}: errno ${c.errno()}\n`);
        process.exit(70);
      }
    }
  } finally {
    closeSync(self);
  }
}

export function withNetns<T>(path: string, fn: () => T): T {
  const fd = openNetns(path);
  try {
    return withNetnsFd(fd, path, fn);
  } finally {
    closeSync(fd);
  }
}

/** statfs(2) f_type of nsfs, the pseudo-filesystem every namespace file lives on. */
const NSFS_MAGIC = 0x6e736673;
/** ioctl on a namespace fd: which kind of namespace it is (CLONE_NEW*). */
const NS_GET_NSTYPE = 0xb703;

/** A network namespace's identity: nsfs device and inode, equal for every path and fd that names it. */
export interface NetnsId {
  dev: number;
  ino: number;
}

/** The path does not name a network namespace (missing, a file, a directory, another namespace kind). */
export class NotNetnsError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is not a network namespace (${reason})`);
    this.name = 'NotNetnsError';
  }
}

/** The identity of the netns behind a path, or undefined if it cannot be read (e.g. /proc/1 without ptrace). */
export function netnsIdOf(path: string): NetnsId | undefined {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
}

export const sameNetns = (a: NetnsId, b: NetnsId | undefined): boolean => b !== undefined && a.dev === b.dev && a.ino === b.ino;

/**
 * Opens a path only if it is a network namespace and returns the fd with its identity. Anything not on nsfs is
 * refused before it is opened (opening a FIFO blocks, opening a device can have side effects); the opened fd is
 * then checked to be the file that was examined, and to be a network namespace (NS_GET_NSTYPE), so a path
 * swapped in between cannot slip through.
 */
export function openNetnsChecked(path: string): { fd: number; id: NetnsId } {
  let st: Stats;
  try {
    st = statSync(path);
    if (statfsSync(path).type !== NSFS_MAGIC) throw new NotNetnsError(path, st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'not a namespace file');
  } catch (err) {
    if (err instanceof NotNetnsError) throw err;
    throw new NotNetnsError(path, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  const fd = openNetns(path, fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  try {
    const now = fstatSync(fd);
    if (now.dev !== st.dev || now.ino !== st.ino) throw new NotNetnsError(path, 'replaced while being opened');
    const type = getLibc().ioctlNoArg(fd, NS_GET_NSTYPE);
    if (type !== CLONE_NEWNET) throw new NotNetnsError(path, type < 0 ? `NS_GET_NSTYPE: ${errnoName(getLibc().errno())}` : 'a namespace of another kind');
    return { fd, id: { dev: st.dev, ino: st.ino } };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
