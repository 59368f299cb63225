// CNI errors as the spec defines them: a JSON object on stdout ({cniVersion, code, msg, details?}) and a
// non-zero exit status. Every failure in the shim is a CniError carrying one of the spec's codes.
import { CniError, CniErrorCode } from '../lib/cni-protocol.js';

export { CniError, CniErrorCode };

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** Anything thrown becomes a spec error; unexpected exceptions are I/O-class failures (5) with the message kept. */
export function toErrorJson(cniVersion: string, err: unknown): CniErrorJson {
  if (err instanceof CniError) {
    const out: CniErrorJson = { cniVersion, code: err.code, msg: err.message };
    if (err.details) out.details = err.details;
    return out;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { cniVersion, code: CniErrorCode.IoFailure, msg: `internal error: ${msg}` };
}
