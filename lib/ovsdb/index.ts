// Public API of Tessera's OVSDB client (RFC 7047). See lib/ovsdb/README.md.
export { OvsdbClient, type ClientOptions, type MonitorSpec, type TableMonitor, type OvsdbLogger } from './client.js';
export { op, type Op, type OpBuilder, type Condition, type ConditionFn, type Mutation, type Mutator, type WriteRow, type InsertResult, type CountResult, type SelectResult, type EmptyResult } from './ops.js';
export { ref, NamedUuid, isUuid, ZERO_UUID } from './notation.js';
export { Cache, type ChangeEvent, type ChangeKind } from './cache.js';
export { OvsdbError, OvsdbDisconnectedError, OvsdbTimeoutError, OvsdbRpcError, OvsdbTransactionError } from './errors.js';
export { parseRemote, parseRemotes, type Remote, type TlsOptions } from './remote.js';
export type { DatabaseModel, TableName, RowBase } from './schema.js';
