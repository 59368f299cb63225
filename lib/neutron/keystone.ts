// Keystone v3 password authentication for the Neutron client: a project-scoped token (POST /v3/auth/tokens), cached
// and renewed shortly before it expires or when Neutron refuses it, and Neutron's endpoint from the token's catalog.
// Nothing here logs, and no error message carries the password or a token.
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { NeutronUnreachableError, type TokenSource } from './client.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface KeystonePasswordOptions {
  /** Keystone's identity URL, e.g. http://keystone:5000/v3 (a URL without /v3 gets it appended). */
  authUrl: string;
  username: string;
  password: string;
  userDomainName: string;
  /** The project the token is scoped to: by id, or by name within a domain. */
  project: { id: string } | { name: string; domainName: string };
  /** Catalog region of the Neutron endpoint; any region when unset. */
  region?: string;
  interface: EndpointInterface;
  /** PEM CA bundle that Keystone's (and Neutron's) TLS certificates chain to. */
  caCert?: string;
  /** Connect through this unix socket instead of the URL's host and port (the lab reaches a netns this way). */
  socketPath?: string;
  timeoutMs?: number;
  /** Renew this long before expiry (capped at half the token's lifetime). */
  renewBeforeMs?: number;
  /** Clock, in ms since the epoch; tests move it. */
  now?: () => number;
}

/** Keystone refused the credentials or the request: names the user and the URL, never the password. */
export class KeystoneAuthError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'KeystoneAuthError';
  }
}

/** Keystone could not be reached, timed out or answered 5xx: worth a retry with backoff, like an unreachable Neutron. */
export class KeystoneUnreachableError extends NeutronUnreachableError {
  constructor(message: string) {
    super(message);
    this.name = 'KeystoneUnreachableError';
  }
}

interface CatalogEndpoint {
  interface?: string;
  region?: string;
  region_id?: string;
  url?: string;
}

interface CatalogService {
  type?: string;
  endpoints?: CatalogEndpoint[];
}

interface TokenBody {
  token?: { expires_at?: string; issued_at?: string; project?: { id?: string }; catalog?: CatalogService[] };
}

export interface KeystoneToken {
  id: string;
  projectId: string;
  expiresAt: number;
  issuedAt: number;
  catalog: CatalogService[];
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request with a JSON body; connection errors and timeouts become KeystoneUnreachableError. */
export function keystoneRequest(
  url: URL, method: string, headers: Record<string, string>, body: unknown,
  o: Pick<KeystonePasswordOptions, 'caCert' | 'socketPath' | 'timeoutMs'>,
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const h: Record<string, string> = { Accept: 'application/json', ...headers };
  if (payload !== undefined) {
    h['Content-Type'] = 'application/json';
    // A sized body: keystone under uwsgi's http-socket does not read chunked request bodies.
    h['Content-Length'] = String(Buffer.byteLength(payload));
  }
  // A connection per request (agent: false): Keystone is asked rarely, and servers such as uwsgi's http-socket close
  // the connection after each answer, which a pooled keep-alive socket only learns as "socket hang up".
  const opts: RequestOptions & { ca?: string } = { method, headers: h, timeout: o.timeoutMs ?? 30_000, agent: false };
  if (o.socketPath) opts.socketPath = o.socketPath;
  if (o.caCert) opts.ca = o.caCert;
  const where = `Keystone ${url.origin}${url.pathname}`;
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeout} ms`)));
    req.on('error', (e) => reject(new KeystoneUnreachableError(`${where} unreachable: ${e.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(new KeystoneUnreachableError(`${where} unreachable: ${e.message}`)));
    });
    req.end(payload);
  });
}

/** The identity URL with /v3 once: what OS_AUTH_URL may be written as (with or without the version, a trailing /). */
export function identityV3Url(authUrl: string): URL {
  const u = authUrl.replace(/\/+$/, '');
  return new URL(/\/v3$/.test(u) ? `${u}/` : `${u}/v3/`);
}

/** Keystone's error message from {"error": {"message"}}, or the start of the raw text. */
function keystoneMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200);
}

/** A Keystone session for one user and project: hands out a valid token and Neutron's endpoint. */
export class KeystoneSession implements TokenSource {
  // #private, like the password: a token is a credential too, and must not show up in a logged object.
  #cached?: KeystoneToken;
  #pending?: Promise<KeystoneToken>;
  private readonly tokensUrl: URL;
  private readonly now: () => number;
  /** Everything but the password, which lives in a #private field that util.inspect and JSON.stringify never show. */
  readonly options: Omit<KeystonePasswordOptions, 'password'>;
  readonly #password: string;

  constructor(o: KeystonePasswordOptions) {
    const { password, ...rest } = o;
    this.options = rest;
    this.#password = password;
    this.tokensUrl = new URL('auth/tokens', identityV3Url(o.authUrl));
    this.now = o.now ?? Date.now;
  }

  /** A token that is not about to expire: the cached one, else a new one (concurrent callers share one request). */
  async token(): Promise<KeystoneToken> {
    if (this.#cached && !this.expiringSoon(this.#cached)) return this.#cached;
    this.#pending ??= this.issue().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async current(): Promise<{ token: string; projectId: string }> {
    const t = await this.token();
    return { token: t.id, projectId: t.projectId };
  }

  /** Forgets `token` (Neutron refused it: revoked, or Keystone's clock differs), so the next call gets a new one. */
  invalidate(token: string): void {
    if (this.#cached?.id === token) this.#cached = undefined;
  }

  /** Neutron's endpoint from the catalog: service type `network`, the configured interface, and region if set. */
  async endpoint(): Promise<string> {
    const t = await this.token();
    const o = this.options;
    for (const svc of t.catalog.filter((s) => s.type === 'network')) {
      const e = (svc.endpoints ?? []).find((x) => x.interface === o.interface && (!o.region || (x.region_id ?? x.region) === o.region));
      if (e?.url) return e.url;
    }
    throw new KeystoneAuthError(0, `Keystone ${o.authUrl}: the catalog of user "${o.username}" has no network endpoint ` +
      `(interface ${o.interface}${o.region ? `, region ${o.region}` : ''}); set OS_ENDPOINT or OS_REGION_NAME/OS_INTERFACE`);
  }

  private expiringSoon(t: KeystoneToken): boolean {
    const margin = Math.min(this.options.renewBeforeMs ?? 120_000, (t.expiresAt - t.issuedAt) / 2);
    return this.now() >= t.expiresAt - margin;
  }

  private async issue(): Promise<KeystoneToken> {
    const o = this.options;
    const issuedAt = this.now();
    const scope = 'id' in o.project ? { id: o.project.id } : { name: o.project.name, domain: { name: o.project.domainName } };
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: o.username, domain: { name: o.userDomainName }, password: this.#password } } },
        scope: { project: scope },
      },
    };
    const res = await keystoneRequest(this.tokensUrl, 'POST', {}, body, o);
    const who = `user "${o.username}" (domain ${o.userDomainName}) at ${o.authUrl}`;
    if (res.status >= 500) throw new KeystoneUnreachableError(`Keystone ${o.authUrl} answered ${res.status}: ${keystoneMessage(res.text)}`);
    if (res.status === 401) throw new KeystoneAuthError(401, `Keystone refused the password of ${who}: ${keystoneMessage(res.text)}`);
    if (res.status !== 201 && res.status !== 200) {
      throw new KeystoneAuthError(res.status, `Keystone could not issue a token for ${who}: ${res.status} ${keystoneMessage(res.text)}`);
    }
    this.#cached = parseToken(res, issuedAt, who);
    return this.#cached;
  }
}

function parseToken(res: HttpAnswer, issuedAt: number, who: string): KeystoneToken {
  const id = res.headers['x-subject-token'];
  let body: TokenBody;
  try {
    body = JSON.parse(res.text) as TokenBody;
  } catch {
    throw new KeystoneAuthError(res.status, `Keystone's token answer for ${who} is not JSON`);
  }
  // The lifetime Keystone gave, counted on our clock from when we asked: a skewed clock on either side does not matter.
  const expires = Date.parse(body.token?.expires_at ?? '');
  const issued = Date.parse(body.token?.issued_at ?? '');
  const expiresAt = Number.isFinite(issued) ? issuedAt + (expires - issued) : expires;
  const projectId = body.token?.project?.id;
  if (typeof id !== 'string' || id === '') throw new KeystoneAuthError(res.status, `Keystone's token answer for ${who} has no X-Subject-Token`);
  if (!Number.isFinite(expires)) throw new KeystoneAuthError(res.status, `Keystone's token for ${who} has no valid expires_at`);
  if (!projectId) throw new KeystoneAuthError(res.status, `Keystone's token for ${who} is not scoped to a project`);
  return { id, projectId, expiresAt, issuedAt, catalog: body.token?.catalog ?? [] };
}
