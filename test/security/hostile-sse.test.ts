/**
 * The hostile-input suite over SSE (POST /graphql with accept: text/event-stream).
 * The cases and the checks every case gets are in cases.ts.
 */
import { describe } from 'vitest';
import { defineHostileSuite } from './cases.js';

describe('hostile input over sse', () => {
  defineHostileSuite('sse');
});
