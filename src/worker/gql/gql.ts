/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment WorkerTaskFields on Task {\n    id\n    type\n    queue\n    payload\n    priority\n    attempts\n    maxAttempts\n    compatibility\n    region\n    format\n    correlationId\n    timeoutSeconds\n    createdAt\n  }\n": typeof types.WorkerTaskFieldsFragmentDoc,
    "\n  mutation WorkerClaimTasks($input: ClaimTasksInput!) {\n    claimTasks(input: $input) {\n      leaseToken\n      leaseUntil\n      task {\n        ...WorkerTaskFields\n      }\n    }\n  }\n": typeof types.WorkerClaimTasksDocument,
    "\n  mutation WorkerHeartbeat($input: HeartbeatInput!) {\n    heartbeat(input: $input) {\n      leases {\n        taskId\n        lost\n        cancelRequested\n        leaseUntil\n      }\n    }\n  }\n": typeof types.WorkerHeartbeatDocument,
    "\n  mutation WorkerReportProgress($input: ReportProgressInput!) {\n    reportProgress(input: $input) {\n      id\n      cancelRequested\n    }\n  }\n": typeof types.WorkerReportProgressDocument,
    "\n  mutation WorkerUpdateTaskMetadata($input: UpdateTaskMetadataInput!) {\n    updateTaskMetadata(input: $input) {\n      id\n    }\n  }\n": typeof types.WorkerUpdateTaskMetadataDocument,
    "\n  mutation WorkerAppendTaskLog($input: AppendTaskLogInput!) {\n    appendTaskLog(input: $input) {\n      id\n    }\n  }\n": typeof types.WorkerAppendTaskLogDocument,
    "\n  mutation WorkerCompleteTask($input: CompleteTaskInput!) {\n    completeTask(input: $input) {\n      id\n      status\n      attempts\n    }\n  }\n": typeof types.WorkerCompleteTaskDocument,
    "\n  mutation WorkerFailTask($input: FailTaskInput!) {\n    failTask(input: $input) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n": typeof types.WorkerFailTaskDocument,
    "\n  mutation WorkerCompleteTasks($inputs: [CompleteTaskInput!]!) {\n    completeTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n    }\n  }\n": typeof types.WorkerCompleteTasksDocument,
    "\n  mutation WorkerFailTasks($inputs: [FailTaskInput!]!) {\n    failTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n": typeof types.WorkerFailTasksDocument,
    "\n  mutation WorkerReleaseTasks($inputs: [LeaseInput!]!) {\n    releaseTasks(inputs: $inputs) {\n      id\n      status\n    }\n  }\n": typeof types.WorkerReleaseTasksDocument,
    "\n  query WorkerTaskOutcome($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      attempts\n    }\n  }\n": typeof types.WorkerTaskOutcomeDocument,
};
const documents: Documents = {
    "\n  fragment WorkerTaskFields on Task {\n    id\n    type\n    queue\n    payload\n    priority\n    attempts\n    maxAttempts\n    compatibility\n    region\n    format\n    correlationId\n    timeoutSeconds\n    createdAt\n  }\n": types.WorkerTaskFieldsFragmentDoc,
    "\n  mutation WorkerClaimTasks($input: ClaimTasksInput!) {\n    claimTasks(input: $input) {\n      leaseToken\n      leaseUntil\n      task {\n        ...WorkerTaskFields\n      }\n    }\n  }\n": types.WorkerClaimTasksDocument,
    "\n  mutation WorkerHeartbeat($input: HeartbeatInput!) {\n    heartbeat(input: $input) {\n      leases {\n        taskId\n        lost\n        cancelRequested\n        leaseUntil\n      }\n    }\n  }\n": types.WorkerHeartbeatDocument,
    "\n  mutation WorkerReportProgress($input: ReportProgressInput!) {\n    reportProgress(input: $input) {\n      id\n      cancelRequested\n    }\n  }\n": types.WorkerReportProgressDocument,
    "\n  mutation WorkerUpdateTaskMetadata($input: UpdateTaskMetadataInput!) {\n    updateTaskMetadata(input: $input) {\n      id\n    }\n  }\n": types.WorkerUpdateTaskMetadataDocument,
    "\n  mutation WorkerAppendTaskLog($input: AppendTaskLogInput!) {\n    appendTaskLog(input: $input) {\n      id\n    }\n  }\n": types.WorkerAppendTaskLogDocument,
    "\n  mutation WorkerCompleteTask($input: CompleteTaskInput!) {\n    completeTask(input: $input) {\n      id\n      status\n      attempts\n    }\n  }\n": types.WorkerCompleteTaskDocument,
    "\n  mutation WorkerFailTask($input: FailTaskInput!) {\n    failTask(input: $input) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n": types.WorkerFailTaskDocument,
    "\n  mutation WorkerCompleteTasks($inputs: [CompleteTaskInput!]!) {\n    completeTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n    }\n  }\n": types.WorkerCompleteTasksDocument,
    "\n  mutation WorkerFailTasks($inputs: [FailTaskInput!]!) {\n    failTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n": types.WorkerFailTasksDocument,
    "\n  mutation WorkerReleaseTasks($inputs: [LeaseInput!]!) {\n    releaseTasks(inputs: $inputs) {\n      id\n      status\n    }\n  }\n": types.WorkerReleaseTasksDocument,
    "\n  query WorkerTaskOutcome($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      attempts\n    }\n  }\n": types.WorkerTaskOutcomeDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WorkerTaskFields on Task {\n    id\n    type\n    queue\n    payload\n    priority\n    attempts\n    maxAttempts\n    compatibility\n    region\n    format\n    correlationId\n    timeoutSeconds\n    createdAt\n  }\n"): typeof import('./graphql.js').WorkerTaskFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerClaimTasks($input: ClaimTasksInput!) {\n    claimTasks(input: $input) {\n      leaseToken\n      leaseUntil\n      task {\n        ...WorkerTaskFields\n      }\n    }\n  }\n"): typeof import('./graphql.js').WorkerClaimTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerHeartbeat($input: HeartbeatInput!) {\n    heartbeat(input: $input) {\n      leases {\n        taskId\n        lost\n        cancelRequested\n        leaseUntil\n      }\n    }\n  }\n"): typeof import('./graphql.js').WorkerHeartbeatDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerReportProgress($input: ReportProgressInput!) {\n    reportProgress(input: $input) {\n      id\n      cancelRequested\n    }\n  }\n"): typeof import('./graphql.js').WorkerReportProgressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerUpdateTaskMetadata($input: UpdateTaskMetadataInput!) {\n    updateTaskMetadata(input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql.js').WorkerUpdateTaskMetadataDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerAppendTaskLog($input: AppendTaskLogInput!) {\n    appendTaskLog(input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql.js').WorkerAppendTaskLogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerCompleteTask($input: CompleteTaskInput!) {\n    completeTask(input: $input) {\n      id\n      status\n      attempts\n    }\n  }\n"): typeof import('./graphql.js').WorkerCompleteTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerFailTask($input: FailTaskInput!) {\n    failTask(input: $input) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n"): typeof import('./graphql.js').WorkerFailTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerCompleteTasks($inputs: [CompleteTaskInput!]!) {\n    completeTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n    }\n  }\n"): typeof import('./graphql.js').WorkerCompleteTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerFailTasks($inputs: [FailTaskInput!]!) {\n    failTasks(inputs: $inputs) {\n      id\n      status\n      attempts\n      runAfter\n    }\n  }\n"): typeof import('./graphql.js').WorkerFailTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WorkerReleaseTasks($inputs: [LeaseInput!]!) {\n    releaseTasks(inputs: $inputs) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql.js').WorkerReleaseTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WorkerTaskOutcome($id: ID!) {\n    task(id: $id) {\n      id\n      status\n      attempts\n    }\n  }\n"): typeof import('./graphql.js').WorkerTaskOutcomeDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
