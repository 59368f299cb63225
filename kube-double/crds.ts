// Custom resources served from the CRD manifests in deploy/crds/: the same openAPIV3Schema a real API server
// enforces (types, enums, bounds, required fields, defaults, pruning of unknown fields) through ajv, and the
// CRD's x-kubernetes-validations through cel-rules.ts. Printer columns come from the same manifests.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
// js-yaml (client-node's own YAML parser): client-node's loadAllYaml turns a CRD into typed fields and drops
// x-kubernetes-validations and defaults on the way.
import yaml from 'js-yaml';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import type { StatusCause } from './status.js';
import type { KubeObject, ResourceType } from './resources.js';
import { CEL_RULES, isTransitionRule } from './cel-rules.js';

export const CRD_DIR = resolve(import.meta.dirname, '../deploy/crds');

type Obj = Record<string, unknown>;
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-validations'?: Array<{ rule: string; message?: string }>;
  [k: string]: unknown;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
}

interface CelCheck {
  /** Property names from the object root; '*' is every item of an array. */
  path: string[];
  rule: string;
  message: string;
}

export interface CustomKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
  columns: PrinterColumn[];
  validate: { spec?: ValidateFunction; status?: ValidateFunction };
  cel: CelCheck[];
}

interface Crd {
  spec: {
    group: string;
    names: { plural: string; kind: string };
    versions: Array<{ name: string; additionalPrinterColumns?: PrinterColumn[]; schema: { openAPIV3Schema: Schema } }>;
  };
}

/** The schema without the Kubernetes extensions ajv does not know; collects the CEL rules with their paths. */
function strip(s: Schema, path: string[], cel: CelCheck[]): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'x-kubernetes-validations') {
      for (const r of v as Array<{ rule: string; message?: string }>) {
        if (!CEL_RULES[r.rule]) throw new Error(`CRD rule at ${path.join('.') || '<root>'} is not one the test double evaluates: ${r.rule}`);
        cel.push({ path, rule: r.rule, message: r.message ?? `failed rule: ${r.rule}` });
      }
    } else if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, strip(ps, [...path, p], cel)]));
    } else if (k === 'items') {
      out.items = strip(v as Schema, [...path, '*'], cel);
    } else if (!k.startsWith('x-kubernetes-')) out[k] = v;
  }
  return out;
}

function loadCrd(crd: Crd): CustomKind {
  const v = crd.spec.versions[0];
  const root = v.schema.openAPIV3Schema;
  const cel: CelCheck[] = [];
  const ajv = new Ajv({ useDefaults: true, removeAdditional: 'all', allErrors: true, strict: false });
  const validate: CustomKind['validate'] = {};
  for (const part of ['spec', 'status'] as const) {
    const ps = root.properties?.[part];
    if (ps) validate[part] = ajv.compile(strip(ps, [part], cel));
  }
  return { group: crd.spec.group, version: v.name, plural: crd.spec.names.plural, kind: crd.spec.names.kind, columns: v.additionalPrinterColumns ?? [], validate, cel };
}

let kinds: CustomKind[] | undefined;

/** Every CRD in deploy/crds/, loaded once. */
export function customKinds(): CustomKind[] {
  kinds ??= readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yaml.loadAll(readFileSync(join(CRD_DIR, f), 'utf8')) as Crd[])
    .map(loadCrd);
  return kinds;
}

export function customKind(group: string, plural: string): CustomKind | undefined {
  return customKinds().find((k) => k.group === group && k.plural === plural);
}

const field = (path: string, e: ErrorObject): string => `${path}${e.instancePath.replace(/\//g, '.')}${e.keyword === 'required' ? `.${(e.params as { missingProperty: string }).missingProperty}` : ''}`;

/** The values at `path` (arrays expanded at '*'), each with its field path and the old value at the same place. */
function* at(v: unknown, old: unknown, path: string[], where: string): Generator<{ self: unknown; old: unknown; where: string }> {
  if (v === undefined) return;
  if (path.length === 0) {
    yield { self: v, old, where };
    return;
  }
  const [head, ...rest] = path;
  if (head === '*') {
    if (!Array.isArray(v)) return;
    // Kubernetes correlates list items for oldSelf only in map-type lists; these lists have no transition rules.
    for (let i = 0; i < v.length; i++) yield* at(v[i], undefined, rest, `${where}[${i}]`);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  const o = old && typeof old === 'object' ? (old as Obj)[head] : undefined;
  yield* at((v as Obj)[head], o, rest, where ? `${where}.${head}` : head);
}

/** Defaults, prunes and validates a custom object in place against its CRD; appends what is invalid. */
export function validateCustom(rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const k = customKind(rt.group, rt.plural);
  if (!k) return;
  for (const part of ['spec', 'status'] as const) {
    const fn = k.validate[part];
    if (!fn || obj[part] === undefined) continue;
    if (!fn(obj[part])) for (const e of fn.errors ?? []) causes.push({ field: field(part, e), reason: 'FieldValueInvalid', message: `Invalid value: ${e.message ?? 'invalid'}` });
  }
  if (causes.length) return; // CEL runs on schema-valid objects only, as in Kubernetes
  for (const c of k.cel) {
    const transition = isTransitionRule(c.rule);
    if (transition && !old) continue;
    for (const { self, old: prev, where } of at(obj, old, c.path, '')) {
      if (transition && prev === undefined) continue;
      if (!CEL_RULES[c.rule](self, prev)) causes.push({ field: where, reason: 'FieldValueInvalid', message: `Invalid value: ${c.message}` });
    }
  }
}
