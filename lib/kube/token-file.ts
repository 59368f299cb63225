// Bearer token from a file that may be replaced at any time: projected service-account tokens rotate
// (the kubelet swaps the file atomically), so the token is never cached for the process's life.
// client-node's own tokenFile provider re-reads only every 60 s and cannot be told to re-read after a
// 401, hence this authenticator; client-node calls it before every request.
import fs from 'node:fs';
import type https from 'node:https';
import type { KubeConfig, User } from '@kubernetes/client-node';
import { ConfigError } from '../cli.js';

/**
 * The auth-provider name a KubeConfig user carries to be served by a TokenFile; its config key is `path`
 * (client-node's built-in provider claims any user whose config has `tokenFile`).
 */
export const TOKEN_FILE_PROVIDER = 'tessera-token-file';

/** How often the file is stat'ed at most, and the age after which it is re-read even if it looks unchanged. */
const STAT_EVERY_MS = 1000;
const REREAD_EVERY_MS = 60_000;

export class TokenFile {
  private token = '';
  private stamp = '';
  private statAt = 0;
  private readAt = 0;

  constructor(readonly path: string, private readonly now: () => number = Date.now) {}

  /** The current token: re-read when the file's inode, size or mtime changed, or after invalidate(). */
  current(): string {
    const t = this.now();
    if (this.token && t - this.statAt < STAT_EVERY_MS && t - this.readAt < REREAD_EVERY_MS) return this.token;
    this.statAt = t;
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path);
    } catch (err) {
      if (this.token) return this.token; // mid-swap or briefly gone: keep the last good token
      throw new Error(`token file ${this.path}: ${(err as Error).message}`);
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.token && stamp === this.stamp && t - this.readAt < REREAD_EVERY_MS) return this.token;
    const token = fs.readFileSync(this.path, 'utf8').trim();
    if (!token) {
      if (this.token) return this.token;
      throw new Error(`token file ${this.path} is empty`);
    }
    this.token = token;
    this.stamp = stamp;
    this.readAt = t;
    return token;
  }

  /** Forces the next current() to read the file (after the API server answered 401). */
  invalidate(): void {
    this.statAt = 0;
    this.readAt = 0;
  }
}

/** Checks a --kube-token-file before anything starts, so a typo is a one-line config error. */
export function checkTokenFile(path: string, flag = '--kube-token-file'): void {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!text.trim()) throw new ConfigError(`${flag} ${path} is empty`);
}

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** Serves every user whose auth provider is TOKEN_FILE_PROVIDER, one TokenFile per path. */
class TokenFileAuthenticator implements Authenticator {
  readonly files = new Map<string, TokenFile>();

  isAuthProvider(user: User): boolean {
    return user.authProvider?.name === TOKEN_FILE_PROVIDER && typeof user.authProvider.config?.path === 'string';
  }

  file(path: string): TokenFile {
    let f = this.files.get(path);
    if (!f) this.files.set(path, (f = new TokenFile(path)));
    return f;
  }

  async applyAuthentication(user: User, opts: https.RequestOptions): Promise<void> {
    const token = this.file(user.authProvider.config.path as string).current();
    opts.headers ??= {};
    (opts.headers as Record<string, string>).Authorization = `Bearer ${token}`;
  }
}

const authenticators = new WeakMap<KubeConfig, TokenFileAuthenticator>();

/** Makes `kc`'s current user read its bearer token from `path` before every request. */
export function useTokenFile(kc: KubeConfig, path: string): void {
  let a = authenticators.get(kc);
  if (!a) {
    a = new TokenFileAuthenticator();
    authenticators.set(kc, a);
    kc.addAuthenticator(a);
  }
  a.file(path);
}

/** The rotating token of `kc`'s current user, if it has one (KubeWriter sets its header from it). */
export function tokenFileOf(kc: KubeConfig): TokenFile | undefined {
  const user = kc.getCurrentUser();
  const a = authenticators.get(kc);
  if (!user || !a || !a.isAuthProvider(user)) return undefined;
  return a.file(user.authProvider.config.path as string);
}
