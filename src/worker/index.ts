/**
 * taskwire/worker: run workers against a Taskwire server, and talk to it with typed
 * GraphQL over one graphql-ws connection.
 */
export {
  createWorker,
  type FailureReason,
  type TaskContext,
  type TaskHandler,
  type Worker,
  type WorkerEvents,
  type WorkerLogger,
  type WorkerOptions,
  type WorkerTask,
  type ClaimStrategy,
  type LogLevel,
  type TaskStatus,
} from './worker.js';
export {
  connect,
  toWebSocketUrl,
  type Connection,
  type ConnectionOptions,
  type ReconnectOptions,
  type Sink,
  type TypedDocument,
} from './connection.js';
export {
  ConnectionError,
  GraphQLRequestError,
  LeaseLostError,
  NonRetryableError,
  TaskCancelledError,
  WorkerStoppedError,
  isTransientError,
  type GraphQLErrorShape,
} from './errors.js';
