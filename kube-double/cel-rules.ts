// The CEL rules (x-kubernetes-validations) of Tessera's CRDs, evaluated by the test double. This is not a CEL
// interpreter: each rule the CRDs use is listed here by its exact text with a JavaScript equivalent, using
// the semantics of Kubernetes' CEL libraries (isIP, isCIDR, cidr().containsIP/masked/ip().family, split).
// A CRD rule that is not listed makes loading the CRD fail, so no rule is silently skipped.
import { contains, parseCIDR, parseIP, type IPNet } from '../lib/ipnet/index.js';

type Obj = Record<string, unknown>;
export type CelRule = (self: unknown, oldSelf: unknown) => boolean;

function isIP(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  try {
    parseIP(s);
    return true;
  } catch {
    return false;
  }
}

/** Kubernetes' isCIDR accepts host bits ("10.0.0.1/24"); cidr(x).masked() clears them. */
function cidrOf(s: unknown): IPNet | undefined {
  if (typeof s !== 'string') return undefined;
  try {
    return parseCIDR(s, { strict: false });
  } catch {
    return undefined;
  }
}

const isCIDR = (s: unknown): boolean => cidrOf(s) !== undefined;
/** cidr(s) == cidr(s).masked(): the text has no host bits set. */
const isMasked = (s: unknown): boolean => {
  try {
    parseCIDR(String(s));
    return true;
  } catch {
    return false;
  }
};
const containsIP = (c: unknown, ip: unknown): boolean => {
  const net = cidrOf(c);
  return !!net && isIP(ip) && contains(net, parseIP(ip as string));
};
const has = (o: unknown, k: string): boolean => typeof o === 'object' && o !== null && (o as Obj)[k] !== undefined;
const get = (o: unknown, k: string): unknown => (o as Obj)[k];

export const CEL_RULES: Record<string, CelRule> = {
  'isCIDR(self)': (s) => isCIDR(s),
  'isIP(self)': (s) => isIP(s),
  'isCIDR(self) && cidr(self) == cidr(self).masked()': (s) => isCIDR(s) && isMasked(s),
  "self.split('..').size() <= 2 && self.split('..').all(a, isIP(a))": (s) => String(s).split('..').length <= 2 && String(s).split('..').every(isIP),
  "self.action != 'reroute' || (has(self.nextHopIP) && isIP(self.nextHopIP))": (s) => get(s, 'action') !== 'reroute' || (has(s, 'nextHopIP') && isIP(get(s, 'nextHopIP'))),
  '!has(self.gateway) || !isCIDR(self.cidrBlock) || cidr(self.cidrBlock).containsIP(self.gateway)': (s) =>
    !has(s, 'gateway') || !isCIDR(get(s, 'cidrBlock')) || containsIP(get(s, 'cidrBlock'), get(s, 'gateway')),
  "!has(self.excludeIps) || !isCIDR(self.cidrBlock) || self.excludeIps.all(e, e.split('..').all(a, !isIP(a) || cidr(self.cidrBlock).containsIP(a)))": (s) =>
    !has(s, 'excludeIps') || !isCIDR(get(s, 'cidrBlock')) ||
    (get(s, 'excludeIps') as string[]).every((e) => String(e).split('..').every((a) => !isIP(a) || containsIP(get(s, 'cidrBlock'), a))),
  "!isCIDR(self.cidrBlock) || (self.protocol == 'IPv4') == (cidr(self.cidrBlock).ip().family() == 4)": (s) =>
    !isCIDR(get(s, 'cidrBlock')) || (get(s, 'protocol') === 'IPv4') === (cidrOf(get(s, 'cidrBlock'))!.family === 4),
  'oldSelf.vpc == self.vpc': (s, old) => get(old, 'vpc') === get(s, 'vpc'),
};

/** Rules that read oldSelf: Kubernetes evaluates them on updates only. */
export const isTransitionRule = (rule: string): boolean => /\boldSelf\b/.test(rule);
