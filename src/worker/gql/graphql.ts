/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ClaimStrategy =
  | 'FIFO'
  | 'LIFO'
  | 'PRIORITY'
  | 'WEIGHTED_RANDOM';

export type ClaimTasksInput = {
  /** Matched against each task's compatibility (region, formats). */
  capabilities?: unknown;
  /** Default 30. */
  leaseSeconds?: number | null | undefined;
  /** Default 1. */
  limit?: number | null | undefined;
  /** Default "default". */
  queue?: string | null | undefined;
  /** Default PRIORITY. */
  strategy?: ClaimStrategy | null | undefined;
  /** Only these task types. */
  types?: Array<string> | null | undefined;
  /** Long-poll: hold the request until work arrives or this passes. */
  waitSeconds?: number | null | undefined;
  workerId: string;
};

export type WorkerClaimTasksMutationVariables = Exact<{
  input: ClaimTasksInput;
}>;


export type WorkerClaimTasksMutation = { claimTasks: Array<{ leaseToken: string, leaseUntil: string, task: { id: string, type: string, queue: string, payload: unknown } }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const WorkerClaimTasksDocument = new TypedDocumentString(`
    mutation WorkerClaimTasks($input: ClaimTasksInput!) {
  claimTasks(input: $input) {
    leaseToken
    leaseUntil
    task {
      id
      type
      queue
      payload
    }
  }
}
    `) as unknown as TypedDocumentString<WorkerClaimTasksMutation, WorkerClaimTasksMutationVariables>;