/** Keyset paging without a database: cursors, the query a page asks for, and page assembly. */
import { describe, expect, it } from 'vitest';
import { TaskwireError } from '../../../src/store/errors.js';
import { decodeCursor, encodeCursor, idPage, taskPage, taskQuery } from '../../../src/store/engine/rules/paging.js';
import type { Task } from '../../../src/store/types.js';

const task = (id: number, priority = 100, updatedAt = 1000 + id) => ({ id, priority, updatedAt }) as Task;

describe('cursors', () => {
  it('round-trip one or two safe integers', () => {
    expect(decodeCursor(encodeCursor([42]))).toEqual([42]);
    expect(decodeCursor(encodeCursor([-5, 7]))).toEqual([-5, 7]);
  });

  it('refuse anything else with VALIDATION on field "after"', () => {
    for (const bad of ['', 'nope', encodeCursor([]), encodeCursor([1, 2, 3]), Buffer.from('[1.5]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      let caught: unknown;
      try {
        decodeCursor(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught, bad).toBeInstanceOf(TaskwireError);
      expect((caught as TaskwireError).code).toBe('VALIDATION');
      expect((caught as TaskwireError).details).toMatchObject({ field: 'after' });
    }
  });
});

describe('taskQuery', () => {
  it('asks for one row more than the page shows, newest first by default', () => {
    expect(taskQuery({}, {}, 10)).toEqual({ filter: {}, key: null, desc: true, after: null, limit: 11 });
  });

  it('orders by priority or updatedAt with id as the tie-breaker, in the direction asked', () => {
    expect(taskQuery({ orderBy: { field: 'PRIORITY', direction: 'ASC' } }, {}, 5)).toMatchObject({ key: 'priority', desc: false });
    expect(taskQuery({ orderBy: { field: 'UPDATED_AT', direction: 'DESC' } }, {}, 5)).toMatchObject({ key: 'updated_at', desc: true });
  });

  it('a keyed order needs a two-number cursor; an id order takes the last number of any cursor', () => {
    expect(() => taskQuery({ orderBy: { field: 'PRIORITY', direction: 'DESC' }, after: encodeCursor([3]) }, {}, 5)).toThrow(/not a cursor/);
    expect(taskQuery({ orderBy: { field: 'PRIORITY', direction: 'DESC' }, after: encodeCursor([3, 9]) }, {}, 5).after).toEqual([3, 9]);
    expect(taskQuery({ after: encodeCursor([3, 9]) }, {}, 5).after).toEqual([9]);
  });
});

describe('taskPage', () => {
  it('shows `first` rows, says whether more exist, and gives each row its sort-key cursor', () => {
    const q = taskQuery({ orderBy: { field: 'PRIORITY', direction: 'DESC' } }, {}, 2);
    const page = taskPage([task(1, 10), task(2, 20), task(3, 30)], q);
    expect(page.hasNextPage).toBe(true);
    expect(page.items.map((i) => i.node.id)).toEqual([1, 2]);
    expect(page.items.map((i) => decodeCursor(i.cursor))).toEqual([[10, 1], [20, 2]]);
    expect(taskPage([task(1)], q).hasNextPage).toBe(false);
  });

  it('an id order gives id cursors; updatedAt orders give [updatedAt, id]', () => {
    expect(decodeCursor(taskPage([task(7)], taskQuery({}, {}, 5)).items[0]!.cursor)).toEqual([7]);
    expect(decodeCursor(taskPage([task(7, 1, 555)], taskQuery({ orderBy: { field: 'UPDATED_AT', direction: 'DESC' } }, {}, 5)).items[0]!.cursor)).toEqual([555, 7]);
  });

  it('idPage pages any rows by id', () => {
    const page = idPage([{ id: 4 }, { id: 5 }], 1);
    expect(page).toEqual({ items: [{ cursor: encodeCursor([4]), node: { id: 4 } }], hasNextPage: true });
  });
});
