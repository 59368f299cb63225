// What neutron-server logged about its own failures, for lab errors: a 500 from the API says only "internal server
// error", and the traceback that explains it lives in the server's log inside a run dir that teardown removes.
import { existsSync, readFileSync } from 'node:fs';
import { NeutronApiError, NeutronClient, type NeutronClientOptions } from '../../lib/neutron/client.js';

/**
 * The last `max` ERROR lines of a neutron-server log (a traceback is logged as one ERROR line per frame), without
 * the API layer's copy of it, which ends in a bare MechanismDriverError and hides the driver's own traceback.
 */
export function lastErrors(logFile: string, max = 40): string[] {
  if (!existsSync(logFile)) return [];
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => / ERROR /.test(l) && !/ ERROR neutron\.pecan_wsgi\.hooks\.translation /.test(l));
  return lines.slice(-max);
}

/** A Neutron client whose 5xx errors carry the server's last logged errors. */
export class LabNeutronClient extends NeutronClient {
  constructor(o: NeutronClientOptions, private readonly logFile: string) {
    super(o);
  }

  override async call(method: string, path: string, body?: unknown): Promise<unknown> {
    try {
      return await super.call(method, path, body);
    } catch (e) {
      if (e instanceof NeutronApiError && e.status >= 500) {
        const errors = lastErrors(this.logFile);
        e.message += errors.length ? `\nneutron-server logged (${this.logFile}):\n${errors.join('\n')}` : ` (nothing logged in ${this.logFile})`;
      }
      throw e;
    }
  }
}
