/**
 * graphql-jit (through @envelop/graphql-jit) for queries and mutations.
 *
 * It replaces the execute step of yoga's envelop pipeline, so it applies to every
 * transport that runs that pipeline: yoga itself, the node:http fast path (http.ts) and
 * graphql-ws (app.ts). Parsing, validation (graphql-armor's limits included), the context
 * and error masking are other steps of the same pipeline and are untouched.
 *
 * graphql-jit is not exactly graphql-js, so an operation is compiled only where its answer
 * is the same; everything else runs on yoga's executor as before:
 *
 * - Subscriptions never. graphql-jit's subscribe loses the code of an error thrown when
 *   the stream is created, and our streams (subscriptions.ts) did not deliver under it.
 * - Documents with more than one operation: the plugin caches the compiled operation by
 *   document alone, so a second operation of a cached document would run the first.
 * - An operationName the document does not have (graphql-js answers that with its error).
 * - Documents with a literal of a scalar that reads variables inside literals (JSON, as in
 *   `payload: {url: $u}`): graphql-jit parses literals once, at compile time, without the
 *   variables (so `$u` would be lost), and prints a warning to stderr for each.
 * - Variables that do not coerce: graphql-js reports them (message, locations, HTTP 400),
 *   where graphql-jit's messages are vaguer ("Expected type DateTime.") and carry neither;
 *   when graphql-jit refuses the variables, yoga's executor runs the request instead.
 *
 * And the errors of a compiled operation are made the same as graphql-js's (`normalize`).
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import {
  GraphQLError,
  Kind,
  TypeInfo,
  BREAK,
  getNamedType,
  isObjectType,
  isScalarType,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A document is compiled when it runs for the this-many-th time. Compiling costs far more
 * than running once (about 7 ms for a dashboard-sized query, 80 ms for one with 20
 * aliases of it), so documents sent once or twice, such as a stream of distinct ones
 * from a hostile client, never pay it; the operations of producers and workers run
 * thousands of times.
 */
export const JIT_COMPILE_AFTER = 5;

export interface JitOptions {
  /** Compile a document when it runs for this-many-th time (default JIT_COMPILE_AFTER). */
  compileAfter?: number;
  /**
   * graphql-jit could not compile a document (a limitation of the compiler: documents are
   * validated first). The plugin then answers that document with these errors, masked
   * like any other.
   */
  onCompileError?: (errors: readonly unknown[]) => void;
}

/** The document's only operation, if graphql-jit can run it as graphql-js would. */
function compilableOperation(schema: GraphQLSchema, document: DocumentNode): OperationDefinitionNode | null {
  let operation: OperationDefinitionNode | null = null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operation) return null;
    operation = definition;
  }
  if (!operation || operation.operation === 'subscription') return null;

  /** graphql-jit collects a selection set's fields first, then its fragments, the last one first. */
  const keepsOrder = (selectionSet: SelectionSetNode): boolean => {
    const conditions: (string | undefined)[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (conditions.length) return false;
        continue;
      }
      conditions.push(
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.typeCondition?.name.value
          : fragments.get(selection.name.value)?.typeCondition.name.value,
      );
    }
    // Several fragments keep their order only if at most one of them applies to any object.
    if (conditions.length < 2) return true;
    return (
      new Set(conditions).size === conditions.length &&
      conditions.every((name) => name !== undefined && isObjectType(schema.getType(name)))
    );
  };

  let compilable = true;
  const typeInfo = new TypeInfo(schema);
  const refuse = () => {
    compilable = false;
    return BREAK;
  };
  const atLiteral = () => {
    const type = getNamedType(typeInfo.getInputType());
    return type && isScalarType(type) && type.parseLiteral.length > 1 ? refuse() : undefined;
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive: refuse,
      SelectionSet: (node) => (keepsOrder(node) ? undefined : refuse()),
      ObjectValue: atLiteral,
      ListValue: atLiteral,
      StringValue: atLiteral,
      IntValue: atLiteral,
      FloatValue: atLiteral,
      BooleanValue: atLiteral,
      EnumValue: atLiteral,
    }),
  );
  return compilable ? operation : null;
}

/** graphql-jit's errors are its own GraphQLError: locations but no AST nodes. */
function isJitError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError && !Object.hasOwn(error, 'nodes');
}

/**
 * Errors that yoga's executor raises as GraphQLErrors, and graphql-jit without an
 * original error. Any other error of graphql-jit's own without an original error (a
 * non-null field that resolved to null, a scalar that failed to serialize) is one that
 * yoga's executor raises as a plain Error, which is masked as INTERNAL_SERVER_ERROR.
 */
const GRAPHQL_ERROR_MESSAGES = ['Argument "', 'Abstract type ', 'Runtime Object type ', 'Expected Iterable', 'Expected value of type '];

export function useJit(options: JitOptions = {}): Plugin {
  const jit = useGraphQlJit(
    {},
    { onError: (result) => options.onCompileError?.(result.errors ?? []) },
  );
  const compileAfter = options.compileAfter ?? JIT_COMPILE_AFTER;
  // Documents come from yoga's parse cache, so each is counted and looked at once.
  const runsBefore = new WeakMap<DocumentNode, number>();
  const operations = new WeakMap<DocumentNode, OperationDefinitionNode | null>();
  const nodesByLocation = new WeakMap<DocumentNode, Map<string, ASTNode>>();

  const compile = (args: ExecutionArgs): boolean => {
    let operation = operations.get(args.document);
    if (operation === undefined) {
      const runs = (runsBefore.get(args.document) ?? 0) + 1;
      if (runs < compileAfter) {
        runsBefore.set(args.document, runs);
        return false;
      }
      runsBefore.delete(args.document);
      operation = compilableOperation(args.schema, args.document);
      operations.set(args.document, operation);
    }
    if (!operation) return false;
    if (args.operationName != null && args.operationName !== operation.name?.value) return false;
    return true;
  };

  /** The outermost AST node starting at each line:column (where graphql-jit's locations point). */
  const nodesAt = (document: DocumentNode): Map<string, ASTNode> => {
    let map = nodesByLocation.get(document);
    if (!map) {
      const built = new Map<string, ASTNode>();
      visit(document, {
        enter(node) {
          const token = node.loc?.startToken;
          const key = token && `${token.line}:${token.column}`;
          if (key && !built.has(key)) built.set(key, node);
        },
      });
      nodesByLocation.set(document, (map = built));
    }
    return map;
  };

  /** A graphql-jit error as yoga's executor would have made it: with its nodes, and plain errors behind internal ones. */
  const normalize = (error: GraphQLError, document: DocumentNode): GraphQLError => {
    const map = nodesAt(document);
    const nodes = (error.locations ?? []).map((l) => map.get(`${l.line}:${l.column}`)).filter((n): n is ASTNode => !!n);
    const internal = !error.originalError && !GRAPHQL_ERROR_MESSAGES.some((m) => error.message.startsWith(m));
    return new GraphQLError(error.message, {
      nodes: nodes.length ? nodes : undefined,
      path: error.path,
      originalError: error.originalError ?? (internal ? new Error(error.message) : undefined),
      extensions: error.extensions,
    });
  };

  return {
    onExecute(payload) {
      if (!compile(payload.args)) return;
      const original = payload.executeFn;
      let compiled: typeof original | undefined;
      void jit.onExecute!({ ...payload, setExecuteFn: (fn: typeof original) => (compiled = fn) } as never);
      if (compiled) {
        const run = compiled;
        // Variables that do not coerce: graphql-jit answers { errors } without data, with
        // vaguer messages and no locations. Run yoga's executor instead, which reports
        // them as before. (Checking them up front instead cost a second coercion of every
        // request's variables: 100 inputs of an enqueueTasks.)
        const orFallBack = (result: ExecutionResult, args: ExecutionArgs) => ('data' in result ? result : original(args));
        payload.setExecuteFn((args: ExecutionArgs) => {
          const result = run(args) as ExecutionResult | Promise<ExecutionResult>;
          return result instanceof Promise ? result.then((r) => orFallBack(r, args)) : orFallBack(result, args);
        });
      }
      const document = payload.args.document;
      return {
        onExecuteDone({ result, setResult }) {
          const { errors, data, ...rest } = result as ExecutionResult;
          if (!errors?.length) return;
          // yoga's executor puts errors before data.
          setResult({ errors: errors.map((e) => (isJitError(e) ? normalize(e, document) : e)), data, ...rest });
        },
      };
    },
  };
}
