/**
 * The hostile-input suite over HTTP (JSON POSTs to /graphql, and raw bodies).
 * The cases and the checks every case gets are in cases.ts.
 */
import { describe } from 'vitest';
import { defineHostileSuite } from './cases.js';

describe('hostile input over http', () => {
  defineHostileSuite('http');
});
