// RFC 7047 §5.1 notation: conversion between friendly JS values (strings, numbers,
// arrays for sets, plain objects for maps, uuid strings) and the wire form
// (["uuid", u], ["set", [...]], ["map", [[k, v], ...]]), driven by the column type.
import { type BaseType, type ColumnType, type SchemaLike, columnKind, columnType, isObj } from './schema.js';

export type WireAtom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
export type WireValue = WireAtom | ['set', WireAtom[]] | ['map', [WireAtom, WireAtom][]];
export type WireRow = Record<string, WireValue>;

/** A named-uuid placeholder: refers to a row inserted earlier in the same transaction. */
export class NamedUuid {
  constructor(readonly name: string) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`named-uuid ${JSON.stringify(name)}: must match [A-Za-z_][A-Za-z0-9_]*`);
  }
}

/** `ref('lsp1')` puts the uuid of the row inserted with uuid-name "lsp1" into a uuid column. */
export function ref(name: string): NamedUuid {
  return new NamedUuid(name);
}

export type Atom = string | number | boolean;
export type FriendlyAtom = Atom | NamedUuid;
export type FriendlyValue = FriendlyAtom | undefined | null | FriendlyAtom[] | { [k: string]: FriendlyAtom };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function atomToWire(bt: BaseType, v: unknown, where: string): WireAtom {
  switch (bt.type) {
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      break;
    case 'real':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      break;
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'uuid':
      if (v instanceof NamedUuid) return ['named-uuid', v.name];
      if (typeof v === 'string' && UUID_RE.test(v)) return ['uuid', v];
      if (typeof v === 'string') throw new Error(`${where}: ${describe(v)} is not a uuid (use ref('name') for a row inserted in the same transaction)`);
      break;
  }
  if (v instanceof NamedUuid) throw new Error(`${where}: ref(${JSON.stringify(v.name)}) used in a ${bt.type} column`);
  throw new Error(`${where}: expected ${bt.type}, got ${describe(v)}`);
}

/** Map keys arrive as object property names (strings); convert to the key's atomic type. */
function keyToWire(bt: BaseType, k: string, where: string): WireAtom {
  switch (bt.type) {
    case 'integer':
    case 'real': {
      const n = Number(k);
      if (k.trim() === '' || Number.isNaN(n)) throw new Error(`${where}: map key ${JSON.stringify(k)} is not a number`);
      return atomToWire(bt, n, where);
    }
    case 'boolean':
      if (k === 'true' || k === 'false') return k === 'true';
      throw new Error(`${where}: map key ${JSON.stringify(k)} is not a boolean`);
    default:
      return atomToWire(bt, k, where);
  }
}

export function valueToWire(ct: ColumnType, v: unknown, where: string): WireValue {
  switch (columnKind(ct)) {
    case 'scalar':
      return atomToWire(ct.key, v, where);
    case 'optional':
      if (v === undefined || v === null) return ['set', []];
      if (Array.isArray(v)) {
        if (v.length > 1) throw new Error(`${where}: at most one value allowed, got ${v.length}`);
        return ['set', v.map((a) => atomToWire(ct.key, a, where))];
      }
      return atomToWire(ct.key, v, where);
    case 'set':
      if (Array.isArray(v)) return ['set', v.map((a) => atomToWire(ct.key, a, where))];
      if (v === undefined || v === null) return ['set', []];
      return atomToWire(ct.key, v, where);
    case 'map': {
      if (v === undefined || v === null) return ['map', []];
      if (!isObj(v) || v instanceof NamedUuid) throw new Error(`${where}: expected a map (plain object), got ${describe(v)}`);
      const vt = ct.value as BaseType;
      return ['map', Object.entries(v).map(([k, val]) => [keyToWire(ct.key, k, where), atomToWire(vt, val, `${where}[${JSON.stringify(k)}]`)] as [WireAtom, WireAtom])];
    }
  }
}

export function atomFromWire(w: unknown): Atom {
  if (Array.isArray(w)) {
    if ((w[0] === 'uuid' || w[0] === 'named-uuid') && typeof w[1] === 'string') return w[1];
    throw new Error(`unexpected wire atom ${describe(w)}`);
  }
  if (typeof w === 'string' || typeof w === 'number' || typeof w === 'boolean') return w;
  throw new Error(`unexpected wire atom ${describe(w)}`);
}

function setElems(w: unknown): unknown[] {
  if (Array.isArray(w) && w[0] === 'set') {
    if (!Array.isArray(w[1])) throw new Error(`malformed set ${describe(w)}`);
    return w[1] as unknown[];
  }
  return [w];
}

export type Friendly = Atom | undefined | Atom[] | Record<string, Atom>;

export function valueFromWire(ct: ColumnType, w: unknown): Friendly {
  switch (columnKind(ct)) {
    case 'scalar':
      return atomFromWire(w);
    case 'optional': {
      const e = setElems(w);
      return e.length === 0 ? undefined : atomFromWire(e[0]);
    }
    case 'set':
      return setElems(w).map(atomFromWire);
    case 'map': {
      if (!Array.isArray(w) || w[0] !== 'map' || !Array.isArray(w[1])) throw new Error(`expected a wire map, got ${describe(w)}`);
      const out: Record<string, Atom> = {};
      for (const pair of w[1] as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`malformed map pair ${describe(pair)}`);
        out[String(atomFromWire(pair[0]))] = atomFromWire(pair[1]);
      }
      return out;
    }
  }
}

/** The value a column has when the server omits it (update2 leaves out default values). */
export function defaultValue(ct: ColumnType): Friendly {
  switch (columnKind(ct)) {
    case 'scalar':
      switch (ct.key.type) {
        case 'integer':
        case 'real':
          return 0;
        case 'boolean':
          return false;
        case 'string':
          return '';
        case 'uuid':
          return ZERO_UUID;
      }
      break;
    case 'optional':
      return undefined;
    case 'set':
      return [];
    case 'map':
      return {};
  }
}

/** Friendly row → wire row (for insert/update). `_uuid`/`_version` are skipped: the server owns them. */
export function rowToWire(model: SchemaLike, table: string, row: object): WireRow {
  const out: WireRow = {};
  for (const [col, v] of Object.entries(row)) {
    if (col === '_uuid' || col === '_version') continue;
    if (v === undefined) continue;
    out[col] = valueToWire(columnType(model, table, col), v, `${table}.${col}`);
  }
  return out;
}

/** Wire row → friendly row, for the columns present. */
export function rowFromWire(model: SchemaLike, table: string, w: unknown): Record<string, Friendly> {
  if (!isObj(w)) throw new Error(`${table}: expected a row object, got ${describe(w)}`);
  const out: Record<string, Friendly> = {};
  for (const [col, v] of Object.entries(w)) {
    if (col === '_version') continue; // not part of the typed rows
    const ct = model.tables[table]?.columns[col] ?? (col === '_uuid' ? columnType(model, table, col) : undefined);
    if (!ct) continue; // a column newer than our model: ignore rather than fail
    const fv = valueFromWire(ct, v);
    if (fv !== undefined) out[col] = fv;
  }
  return out;
}
