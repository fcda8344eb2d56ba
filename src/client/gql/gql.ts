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
    "\n  fragment ClientTaskFields on Task {\n    id\n    type\n    queue\n    status\n    payload\n    result\n    errorMessage\n    progress\n    progressMessage\n    metadata\n    attempts\n    maxAttempts\n    priority\n    correlationId\n    cancelRequested\n    createdAt\n    updatedAt\n    runAfter\n    startedAt\n    finishedAt\n  }\n": typeof types.ClientTaskFieldsFragmentDoc,
    "\n  fragment ClientLogFields on TaskLog {\n    id\n    at\n    level\n    message\n    details\n  }\n": typeof types.ClientLogFieldsFragmentDoc,
    "\n  mutation ClientEnqueue($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n": typeof types.ClientEnqueueDocument,
    "\n  query ClientTask($id: ID!) {\n    task(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n": typeof types.ClientTaskDocument,
    "\n  query ClientTasksSnapshot($filter: TaskFilter, $first: Int) {\n    lastEventCursor\n    tasks(filter: $filter, first: $first) {\n      edges {\n        node {\n          ...ClientTaskFields\n        }\n      }\n    }\n  }\n": typeof types.ClientTasksSnapshotDocument,
    "\n  subscription ClientTaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n": typeof types.ClientTaskUpdatedDocument,
    "\n  subscription ClientTaskEvents($filter: TaskFilter, $after: String) {\n    taskEvents(filter: $filter, after: $after) {\n      cursor\n      kind\n      at\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n": typeof types.ClientTaskEventsDocument,
    "\n  query ClientTaskLogs($id: ID!, $after: String) {\n    task(id: $id) {\n      id\n      logs(first: 500, after: $after) {\n        edges {\n          cursor\n          node {\n            ...ClientLogFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ClientTaskLogsDocument,
    "\n  subscription ClientTaskLogAdded($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      ...ClientLogFields\n    }\n  }\n": typeof types.ClientTaskLogAddedDocument,
};
const documents: Documents = {
    "\n  fragment ClientTaskFields on Task {\n    id\n    type\n    queue\n    status\n    payload\n    result\n    errorMessage\n    progress\n    progressMessage\n    metadata\n    attempts\n    maxAttempts\n    priority\n    correlationId\n    cancelRequested\n    createdAt\n    updatedAt\n    runAfter\n    startedAt\n    finishedAt\n  }\n": types.ClientTaskFieldsFragmentDoc,
    "\n  fragment ClientLogFields on TaskLog {\n    id\n    at\n    level\n    message\n    details\n  }\n": types.ClientLogFieldsFragmentDoc,
    "\n  mutation ClientEnqueue($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n": types.ClientEnqueueDocument,
    "\n  query ClientTask($id: ID!) {\n    task(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n": types.ClientTaskDocument,
    "\n  query ClientTasksSnapshot($filter: TaskFilter, $first: Int) {\n    lastEventCursor\n    tasks(filter: $filter, first: $first) {\n      edges {\n        node {\n          ...ClientTaskFields\n        }\n      }\n    }\n  }\n": types.ClientTasksSnapshotDocument,
    "\n  subscription ClientTaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n": types.ClientTaskUpdatedDocument,
    "\n  subscription ClientTaskEvents($filter: TaskFilter, $after: String) {\n    taskEvents(filter: $filter, after: $after) {\n      cursor\n      kind\n      at\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n": types.ClientTaskEventsDocument,
    "\n  query ClientTaskLogs($id: ID!, $after: String) {\n    task(id: $id) {\n      id\n      logs(first: 500, after: $after) {\n        edges {\n          cursor\n          node {\n            ...ClientLogFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.ClientTaskLogsDocument,
    "\n  subscription ClientTaskLogAdded($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      ...ClientLogFields\n    }\n  }\n": types.ClientTaskLogAddedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ClientTaskFields on Task {\n    id\n    type\n    queue\n    status\n    payload\n    result\n    errorMessage\n    progress\n    progressMessage\n    metadata\n    attempts\n    maxAttempts\n    priority\n    correlationId\n    cancelRequested\n    createdAt\n    updatedAt\n    runAfter\n    startedAt\n    finishedAt\n  }\n"): typeof import('./graphql.js').ClientTaskFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ClientLogFields on TaskLog {\n    id\n    at\n    level\n    message\n    details\n  }\n"): typeof import('./graphql.js').ClientLogFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClientEnqueue($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n"): typeof import('./graphql.js').ClientEnqueueDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ClientTask($id: ID!) {\n    task(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n"): typeof import('./graphql.js').ClientTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ClientTasksSnapshot($filter: TaskFilter, $first: Int) {\n    lastEventCursor\n    tasks(filter: $filter, first: $first) {\n      edges {\n        node {\n          ...ClientTaskFields\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.js').ClientTasksSnapshotDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientTaskUpdated($id: ID!) {\n    taskUpdated(id: $id) {\n      ...ClientTaskFields\n    }\n  }\n"): typeof import('./graphql.js').ClientTaskUpdatedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientTaskEvents($filter: TaskFilter, $after: String) {\n    taskEvents(filter: $filter, after: $after) {\n      cursor\n      kind\n      at\n      task {\n        ...ClientTaskFields\n      }\n    }\n  }\n"): typeof import('./graphql.js').ClientTaskEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ClientTaskLogs($id: ID!, $after: String) {\n    task(id: $id) {\n      id\n      logs(first: 500, after: $after) {\n        edges {\n          cursor\n          node {\n            ...ClientLogFields\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.js').ClientTaskLogsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientTaskLogAdded($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      ...ClientLogFields\n    }\n  }\n"): typeof import('./graphql.js').ClientTaskLogAddedDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
