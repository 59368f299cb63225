// Label and field selectors with the syntax and matching rules of k8s.io/apimachinery.
import { matchRequirements, type LabelOperator } from '../lib/kube/label-selector.js';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export class SelectorError extends Error {}

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) return `prefix part of "${key}" must be a DNS subdomain`;
  if (name.length === 0 || name.length > 63 || !NAME_RE.test(name)) return `name part of "${key}" must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_RE.test(value)) return `label value "${value}" must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  return undefined;
}

type Token = { t: 'id'; v: string } | { t: 'op'; v: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === '=' || c === '!' || c === '<' || c === '>') {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ t: 'op', v: two });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else {
      let j = i;
      while (j < s.length && !' \t(),=!<>'.includes(s[j])) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Parses a label selector ("a=b,c!=d,e in (x,y),f notin (z),g,!h"); throws SelectorError naming the problem. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const toks = tokenize(selector);
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new SelectorError(`unable to parse requirement: ${why} in label selector "${selector}"`);
  };
  const expectId = (what: string): string => {
    const tk = toks[i];
    if (!tk || tk.t !== 'id') return fail(`expected ${what}`);
    i++;
    return tk.v;
  };
  const checkKey = (key: string) => {
    const e = labelKeyError(key);
    if (e) fail(e);
  };
  const checkValue = (v: string) => {
    const e = labelValueError(v);
    if (e) fail(e);
  };
  if (toks.length === 0) return reqs;
  for (;;) {
    const tk = toks[i];
    if (!tk) fail('expected a requirement');
    if (tk.t === 'op' && tk.v === '!') {
      i++;
      const key = expectId('a key after "!"');
      checkKey(key);
      reqs.push({ key, op: '!exists', values: [] });
    } else {
      const key = expectId('a key');
      checkKey(key);
      const nx = toks[i];
      if (!nx || (nx.t === 'op' && nx.v === ',')) {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (nx.t === 'op' && (nx.v === '=' || nx.v === '==' || nx.v === '!=')) {
        i++;
        // "a=" selects an empty value.
        const vt = toks[i];
        let value = '';
        if (vt && vt.t === 'id') {
          value = vt.v;
          i++;
        }
        checkValue(value);
        reqs.push({ key, op: nx.v === '!=' ? '!=' : '=', values: [value] });
      } else if (nx.t === 'op' && (nx.v === '<' || nx.v === '>')) {
        i++;
        const value = expectId('an integer');
        if (!/^-?\d+$/.test(value)) fail(`"${value}" is not an integer`);
        reqs.push({ key, op: nx.v === '<' ? 'lt' : 'gt', values: [value] });
      } else if (nx.t === 'id' && (nx.v === 'in' || nx.v === 'notin')) {
        i++;
        const open = toks[i];
        if (!open || open.t !== 'op' || open.v !== '(') fail(`expected "(" after "${nx.v}"`);
        i++;
        const values: string[] = [];
        for (;;) {
          const v = toks[i];
          if (v && v.t === 'id') {
            checkValue(v.v);
            values.push(v.v);
            i++;
          } else if (v && v.t === 'op' && (v.v === ',' || v.v === ')')) {
            // An empty element is the empty value, as in apimachinery.
            values.push('');
          }
          const sep = toks[i];
          if (!sep || sep.t !== 'op') fail('expected "," or ")"');
          i++;
          if (sep.v === ')') break;
          if (sep.v !== ',') fail(`unexpected "${sep.v}" in value set`);
        }
        if (nx.v === 'in' && values.length === 0) fail('"in" needs at least one value');
        reqs.push({ key, op: nx.v, values });
      } else {
        fail(`unexpected "${nx.v}" after key "${key}"`);
      }
    }
    const sep = toks[i];
    if (!sep) break;
    if (sep.t !== 'op' || sep.v !== ',') fail(`expected "," but found "${sep.v}"`);
    i++;
  }
  return reqs;
}

// The parsed ops as the shared matcher's operators ("=" and "in" are one rule, as are "!=" and "notin").
const OPERATOR: Record<LabelOp, LabelOperator> = {
  exists: 'Exists',
  '!exists': 'DoesNotExist',
  '=': 'In',
  in: 'In',
  '!=': 'NotIn',
  notin: 'NotIn',
  gt: 'Gt',
  lt: 'Lt',
};

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  return matchRequirements(reqs.map((r) => ({ key: r.key, operator: OPERATOR[r.op], values: r.values })), labels);
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on unescaped commas; "\," "\=" "\!" and "\\" are escapes, as in apimachinery's fields package. */
function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      parts.push(cur);
      cur = '';
    } else {
      cur += s[i];
    }
  }
  parts.push(cur);
  return parts;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return splitEscaped(selector, ',').map((part) => {
    let m: RegExpMatchArray | null = null;
    // Find the first unescaped operator.
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '\\') {
        i++;
        continue;
      }
      if (part.startsWith('!=', i) || part.startsWith('==', i)) {
        m = [part, part.slice(0, i), part.slice(i, i + 2), part.slice(i + 2)];
        break;
      }
      if (part[i] === '=') {
        m = [part, part.slice(0, i), '=', part.slice(i + 1)];
        break;
      }
    }
    if (!m) throw new SelectorError(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (field === '') throw new SelectorError(`invalid field selector "${selector}": empty field name`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]) };
  });
}

export function matchFields(reqs: FieldRequirement[], get: (field: string) => string): boolean {
  for (const r of reqs) {
    const v = get(r.field);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
