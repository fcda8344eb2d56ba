/** Writes schema/schema.graphql from the Pothos schema (npm run schema). */
import { writeFileSync } from 'node:fs';
import { printSchemaText } from '../src/graphql/print.js';

writeFileSync(new URL('../schema/schema.graphql', import.meta.url), printSchemaText());
console.log('wrote schema/schema.graphql');
