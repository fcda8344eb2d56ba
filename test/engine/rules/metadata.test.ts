/** Metadata rules without a database: JSON Merge Patch for MERGE, replacement for SET. */
import { describe, expect, it } from 'vitest';
import { mergePatch, nextMetadata } from '../../../src/store/engine/rules/metadata.js';

describe('metadata', () => {
  it('MERGE follows RFC 7386: objects merge deeply, null removes, arrays and scalars replace', () => {
    const current = { step: 'resize', stats: { done: 1, total: 4 }, tags: ['a'], keep: true };
    const patch = { stats: { done: 2, eta: 30 }, tags: ['b'], keep: null, step: 'upload' };
    expect(nextMetadata(current, patch, 'MERGE')).toEqual({ step: 'upload', stats: { done: 2, total: 4, eta: 30 }, tags: ['b'] });
    expect(current).toEqual({ step: 'resize', stats: { done: 1, total: 4 }, tags: ['a'], keep: true }); // not mutated
  });

  it('MERGE onto nothing starts from an empty object; SET replaces the whole object', () => {
    expect(nextMetadata(null, { a: { b: null, c: 1 } }, 'MERGE')).toEqual({ a: { c: 1 } });
    expect(nextMetadata({ a: 1, b: 2 }, { c: 3 }, 'SET')).toEqual({ c: 3 });
  });

  it('a non-object patch value replaces an object', () => {
    expect(mergePatch({ a: { b: 1 } }, { a: 5 })).toEqual({ a: 5 });
    expect(mergePatch({ a: 5 }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });
});
