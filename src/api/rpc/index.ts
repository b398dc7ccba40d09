/**
 * JSON-RPC 2.0 over HTTP and WebSocket: the server, errors, parameter parsing, log filter
 * matching and the eth_subscribe hub. Method handlers (eth_*, net_*, ...) live elsewhere and
 * are passed to `createRpcServer({ methods })`.
 */
export {
  createRpcServer,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BODY_BYTES,
  type RequestObserver,
  type RootGetHandler,
  type RpcContext,
  type RpcHandler,
  type RpcServer,
  type RpcServerOptions,
} from './server.ts'
export {
  RpcError,
  RpcErrorCode,
  decodeRevertReason,
  executionReverted,
  internalError,
  invalidParams,
  invalidRequest,
  limitExceeded,
  methodNotFound,
  parseError,
  serverError,
  toRpcError,
  type RpcErrorKind,
  type RpcErrorObject,
} from './errors.ts'
export {
  MAX_LOG_TOPICS,
  expectParams,
  parseAddress,
  parseAddressFilter,
  parseBlockNumberOrTag,
  parseBlockTag,
  parseBool,
  parseData,
  parseHash,
  parseLogFilter,
  parseQuantity,
  parseTopicsFilter,
  parseTxCallObject,
  toData,
  toQuantity,
  type AccessListItem,
  type BlockNumberOrTag,
  type BlockRef,
  type BlockTag,
  type LogFilter,
  type TxCallObject,
} from './params.ts'
export {
  compileLogFilter,
  matchesLogFilter,
  type CompiledLogFilter,
  type LogFilterCriteria,
  type LogLike,
} from './log-filter.ts'
export {
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  SubscriptionHub,
  type LogJson,
  type SubscriptionHubOptions,
  type SubscriptionKind,
  type SubscriptionSink,
} from './subscriptions.ts'
