// Entering a network namespace for a moment, synchronously, on the main thread.
// Only the calling thread moves (setns), and no event-loop turn happens before it moves back, so nothing else in
// the process runs inside the other netns. Sockets opened meanwhile stay bound to that netns after we return.
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { getLibc, NetdevError } from './ffi.js';
import { constants as osConstants } from 'node:os';

const CLONE_NEWNET = 0x40000000;

/** Opens a netns file (/var/run/netns/X, /proc/PID/ns/net) read-only; errors name the path. */
export function openNetns(path: string): number {
  try {
    return openSync(path, fsConstants.O_RDONLY); // libuv adds O_CLOEXEC itself
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
