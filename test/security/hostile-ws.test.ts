/**
 * The hostile-input suite over WebSocket (graphql-ws, and raw frames).
 * The cases and the checks every case gets are in cases.ts.
 */
import { describe } from 'vitest';
import { defineHostileSuite } from './cases.js';

describe('hostile input over ws', () => {
  defineHostileSuite('ws');
});
