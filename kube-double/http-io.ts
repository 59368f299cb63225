// The double's HTTP plumbing: JSON responses, bounded request bodies, content types.
import type http from 'node:http';
import { ApiError, errors } from './status.js';

const MAX_BODY = 3 * 1024 * 1024;

export function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  sendRaw(res, code, JSON.stringify(body));
}

export function sendRaw(res: http.ServerResponse, code: number, data: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function checkJsonContentType(req: http.IncomingMessage): void {
  const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/json' && ct !== '') throw errors.unsupportedMediaType(ct);
}
