// The agent's answers to CNI requests as tests read them: one a test expects to succeed, or to fail, or to be an
// ADD's result; any other answer fails the test with what the agent said.
import assert from 'node:assert/strict';
import type { AgentError, AgentOk, AgentResponse, Result1x } from '../../../lib/cni-protocol.js';

export function ok(r: AgentResponse): AgentOk {
  if (!r.ok) assert.fail(`agent error ${r.code}: ${r.msg}${r.details ? ` (${r.details})` : ''}`);
  return r;
}

export function err(r: AgentResponse): AgentError {
  if (r.ok) assert.fail(`expected an error, got ${JSON.stringify(r)}`);
  return r;
}

/** The result of an ADD that succeeded. */
export function added(r: AgentResponse): Result1x {
  return ok(r).result as Result1x;
}
