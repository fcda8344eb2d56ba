/**
 * The printed schema is committed (schema/schema.graphql) and must not drift from the
 * code; and the schema conforms to the API contract (schema/contract.graphql, the
 * contract clients were promised, kept in the repository so a clone can check it):
 * every type, field, argument, enum value and input field of the contract exists here
 * with the same type.
 */
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLNamedType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printSchemaText } from '../../src/graphql/print.js';
import { schema } from '../../src/graphql/schema.js';

const SCHEMA_FILE = new URL('../../schema/schema.graphql', import.meta.url);
const CONTRACT_FILE = new URL('../../schema/contract.graphql', import.meta.url);

describe('schema/schema.graphql', () => {
  it('is what the code prints (run `npm run schema` after changing the schema)', () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed === printSchemaText(), 'schema/schema.graphql is out of date: run `npm run schema`').toBe(true);
  });
});

function kindOf(t: GraphQLNamedType): string {
  if (isObjectType(t)) return 'object';
  if (isInterfaceType(t)) return 'interface';
  if (isInputObjectType(t)) return 'input';
  if (isEnumType(t)) return 'enum';
  if (isScalarType(t)) return 'scalar';
  if (isUnionType(t)) return 'union';
  return 'unknown';
}

/** Every difference between the contract and our schema, as readable lines. */
function contractDifferences(contractText: string): { problems: string[]; checked: number } {
  const contract = buildSchema(contractText);
  const problems: string[] = [];
  let checked = 0;
  const missing = (name: string, what: string) => {
    problems.push(`${what} ${name} is missing`);
  };

  for (const expected of Object.values(contract.getTypeMap())) {
    if (expected.name.startsWith('__')) continue;
    const actual = schema.getType(expected.name);
    checked++;
    if (!actual) {
      missing(expected.name, kindOf(expected));
      continue;
    }
    if (kindOf(actual) !== kindOf(expected)) {
      problems.push(`${expected.name} is a ${kindOf(actual)}, the contract has a ${kindOf(expected)}`);
      continue;
    }
    if (isObjectType(expected) || isInterfaceType(expected)) {
      const act = actual as typeof expected;
      const ours = new Set(act.getInterfaces().map((i) => i.name));
      for (const i of expected.getInterfaces()) {
        checked++;
        if (!ours.has(i.name)) problems.push(`${expected.name} does not implement ${i.name}`);
      }
      const fields = act.getFields() as Record<string, GraphQLField<unknown, unknown>>;
      for (const f of Object.values(expected.getFields())) {
        const name = `${expected.name}.${f.name}`;
        checked++;
        const g = fields[f.name];
        if (!g) {
          missing(name, 'field');
          continue;
        }
        if (String(g.type) !== String(f.type)) problems.push(`${name} is ${String(g.type)}, the contract has ${String(f.type)}`);
        const args = new Map(g.args.map((a) => [a.name, a]));
        for (const a of f.args) {
          checked++;
          const b = args.get(a.name);
          if (!b) problems.push(`argument ${name}(${a.name}) is missing`);
          else if (String(b.type) !== String(a.type)) problems.push(`argument ${name}(${a.name}) is ${String(b.type)}, the contract has ${String(a.type)}`);
        }
        // An argument the contract does not have must not be required, or contract clients break.
        for (const b of g.args) {
          if (!f.args.some((a) => a.name === b.name) && String(b.type).endsWith('!') && b.defaultValue === undefined) {
            problems.push(`argument ${name}(${b.name}: ${String(b.type)}) is required but not in the contract`);
          }
        }
      }
    } else if (isInputObjectType(expected)) {
      const fields = (actual as typeof expected).getFields();
      for (const f of Object.values(expected.getFields())) {
        const name = `${expected.name}.${f.name}`;
        checked++;
        const g = fields[f.name];
        if (!g) missing(name, 'input field');
        else if (String(g.type) !== String(f.type)) problems.push(`${name} is ${String(g.type)}, the contract has ${String(f.type)}`);
      }
      for (const g of Object.values(fields)) {
        if (!expected.getFields()[g.name] && String(g.type).endsWith('!') && g.defaultValue === undefined) {
          problems.push(`input field ${expected.name}.${g.name}: ${String(g.type)} is required but not in the contract`);
        }
      }
    } else if (isEnumType(expected)) {
      const values = new Set((actual as typeof expected).getValues().map((v) => v.name));
      for (const v of expected.getValues()) {
        checked++;
        if (!values.has(v.name)) problems.push(`enum value ${expected.name}.${v.name} is missing`);
      }
    }
  }
  return { problems, checked };
}

describe('the API contract', () => {
  const contractText = readFileSync(CONTRACT_FILE, 'utf8');

  it('is matched by our schema: every type, field, argument, enum value and input field, with the same type', () => {
    const { problems, checked } = contractDifferences(contractText);
    expect(checked).toBeGreaterThan(200);
    expect(problems).toEqual([]);
  });

  it('the check finds a difference when there is one (so a pass above means something)', () => {
    const changed = contractText
      .replace('progress: Float               # 0..1', 'progress: Int # changed')
      .replace('enum LogLevel { DEBUG INFO WARN ERROR }', 'enum LogLevel { DEBUG INFO WARN ERROR FATAL }')
      .replace('input LeaseInput { taskId: ID! leaseToken: String! }', 'input LeaseInput { taskId: ID! leaseToken: String! extra: Int }')
      .replace('tasks(filter: TaskFilter, orderBy: TaskOrder, first: Int, after: String)', 'tasks(filter: TaskFilter, orderBy: TaskOrder, first: Int, after: String, last: Int)')
      .concat('\ntype ExtraThing { x: Int }\n');
    expect(changed).not.toBe(contractText);
    const { problems } = contractDifferences(changed);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Task.progress is Float, the contract has Int',
        'enum value LogLevel.FATAL is missing',
        'input field LeaseInput.extra is missing',
        'argument Query.tasks(last) is missing',
        'object ExtraThing is missing',
      ]),
    );
  });
});
