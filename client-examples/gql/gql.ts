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
    "\n  mutation ExampleEnqueueTasks($inputs: [EnqueueTaskInput!]!) {\n    enqueueTasks(inputs: $inputs) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n      }\n    }\n  }\n": typeof types.ExampleEnqueueTasksDocument,
    "\n  mutation ExampleEnqueueTask($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n        dependsOn {\n          id\n        }\n      }\n    }\n  }\n": typeof types.ExampleEnqueueTaskDocument,
    "\n  subscription ExampleWatchTask($id: ID!) {\n    taskUpdated(id: $id) {\n      id\n      type\n      status\n      attempts\n      maxAttempts\n      progress\n      progressMessage\n      errorMessage\n      result\n    }\n  }\n": typeof types.ExampleWatchTaskDocument,
    "\n  subscription ExampleWatchLogs($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      at\n      level\n      message\n    }\n  }\n": typeof types.ExampleWatchLogsDocument,
    "\n  query ExampleQueueStats($queue: String) {\n    queueStats(queue: $queue) {\n      counts {\n        status\n        count\n      }\n    }\n  }\n": typeof types.ExampleQueueStatsDocument,
};
const documents: Documents = {
    "\n  mutation ExampleEnqueueTasks($inputs: [EnqueueTaskInput!]!) {\n    enqueueTasks(inputs: $inputs) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n      }\n    }\n  }\n": types.ExampleEnqueueTasksDocument,
    "\n  mutation ExampleEnqueueTask($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n        dependsOn {\n          id\n        }\n      }\n    }\n  }\n": types.ExampleEnqueueTaskDocument,
    "\n  subscription ExampleWatchTask($id: ID!) {\n    taskUpdated(id: $id) {\n      id\n      type\n      status\n      attempts\n      maxAttempts\n      progress\n      progressMessage\n      errorMessage\n      result\n    }\n  }\n": types.ExampleWatchTaskDocument,
    "\n  subscription ExampleWatchLogs($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      at\n      level\n      message\n    }\n  }\n": types.ExampleWatchLogsDocument,
    "\n  query ExampleQueueStats($queue: String) {\n    queueStats(queue: $queue) {\n      counts {\n        status\n        count\n      }\n    }\n  }\n": types.ExampleQueueStatsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExampleEnqueueTasks($inputs: [EnqueueTaskInput!]!) {\n    enqueueTasks(inputs: $inputs) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n      }\n    }\n  }\n"): typeof import('./graphql.js').ExampleEnqueueTasksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExampleEnqueueTask($input: EnqueueTaskInput!) {\n    enqueueTask(input: $input) {\n      created\n      task {\n        id\n        type\n        status\n        priority\n        region\n        format\n        dependsOn {\n          id\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.js').ExampleEnqueueTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ExampleWatchTask($id: ID!) {\n    taskUpdated(id: $id) {\n      id\n      type\n      status\n      attempts\n      maxAttempts\n      progress\n      progressMessage\n      errorMessage\n      result\n    }\n  }\n"): typeof import('./graphql.js').ExampleWatchTaskDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ExampleWatchLogs($taskId: ID!) {\n    taskLogAdded(taskId: $taskId) {\n      at\n      level\n      message\n    }\n  }\n"): typeof import('./graphql.js').ExampleWatchLogsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExampleQueueStats($queue: String) {\n    queueStats(queue: $queue) {\n      counts {\n        status\n        count\n      }\n    }\n  }\n"): typeof import('./graphql.js').ExampleQueueStatsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
