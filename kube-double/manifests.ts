// Kubernetes manifests (multi-document YAML) as plain objects, and the RBAC of deploy/<component>/rbac.yaml that the
// double enforces for Tessera's service accounts.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from './resources.js';
import { serviceAccountUser, type UserInfo } from './rbac.js';

export function parseManifests(text: string, source: string): KubeObject[] {
  const docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
  for (const d of docs) {
    const o = d as Partial<KubeObject>;
    if (typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new Error(`${source}: a document without apiVersion, kind or metadata.name`);
    }
  }
  return docs as KubeObject[];
}

export const loadManifestFile = (path: string): KubeObject[] => parseManifests(readFileSync(path, 'utf8'), path);

/** Every deploy/<component>/rbac.yaml. */
export function deployRbacFiles(repoRoot: string): string[] {
  const deploy = join(repoRoot, 'deploy');
  return readdirSync(deploy).sort().map((d) => join(deploy, d, 'rbac.yaml')).filter((f) => existsSync(f));
}

/** The service accounts those files declare, as the users their tokens authenticate as. */
export function serviceAccountsOf(objects: KubeObject[]): Map<string, UserInfo> {
  const out = new Map<string, UserInfo>();
  for (const o of objects) if (o.kind === 'ServiceAccount') out.set(o.metadata.name as string, serviceAccountUser(o.metadata.namespace ?? 'default', o.metadata.name as string));
  return out;
}
