/**
 * What GraphiQL opens with at /graphql: a task to enqueue and a subscription to watch it,
 * instead of yoga's generic welcome text. test/graphql/server.test.ts validates it against
 * the schema and runs it, so it cannot drift from the API.
 */
export const GRAPHIQL_EXAMPLE = `# Welcome to Taskwire.
#
# Run WatchEvents first (choose it with the run button): it streams every change from
# now on (give it after: "<cursor>" to replay from a cursor first). Then run
# EnqueueThumbnail in a second tab, or from a terminal, and watch its task appear; a
# worker claiming it shows CLAIMED, PROGRESS and SUCCEEDED events here.

subscription WatchEvents {
  taskEvents {
    cursor
    kind
    at
    task { id type status progress }
  }
}

mutation EnqueueThumbnail {
  enqueueTask(input: { type: "thumbnail", payload: { url: "a.png", format: "png" } }) {
    created
    task { id status createdAt }
  }
}
`;
