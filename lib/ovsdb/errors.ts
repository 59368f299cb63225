// Errors the client raises. Each one says what failed and where.

export class OvsdbError extends Error {
  override name = 'OvsdbError';
}

/** The client has no usable connection right now (or lost it while a request was in flight). */
export class OvsdbDisconnectedError extends OvsdbError {
  override name = 'OvsdbDisconnectedError';
}

/** A request got no answer in time. */
export class OvsdbTimeoutError extends OvsdbError {
  override name = 'OvsdbTimeoutError';
}

/** The server answered a JSON-RPC request with an error (not a transaction op error). */
export class OvsdbRpcError extends OvsdbError {
  override name = 'OvsdbRpcError';
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`${method}: server error ${JSON.stringify(error)}`);
  }
}

/** An operation, or the commit, of a transaction failed; nothing was applied. */
export class OvsdbTransactionError extends OvsdbError {
  override name = 'OvsdbTransactionError';
  constructor(
    /** Index of the failing op in the request, or -1 for the commit itself. */
    readonly opIndex: number,
    readonly op: string | undefined,
    readonly table: string | undefined,
    /** Server error tag, e.g. "constraint violation", "timed out", "not owner". */
    readonly error: string,
    readonly details: string | undefined,
  ) {
    const where = opIndex >= 0 ? `op ${opIndex} (${op ?? '?'}${table ? ' ' + table : ''})` : 'commit';
    super(`transaction failed at ${where}: ${error}${details ? ': ' + details : ''}`);
  }
}
