/**
 * npm run bench            the engine benchmark, the GraphQL benchmark, then the PostgreSQL benchmark (full sizes)
 * npm run bench -- --quick smaller counts, for a smoke run
 * Options:
 *   --only engine|graphql|postgres
 *                           run one of the three
 *   --profile [dir]         after the GraphQL benchmark, run the server under `node --cpu-prof`
 *                           (single enqueue over HTTP and WebSocket, drains over WebSocket and
 *                           HTTP) and summarize each profile; profiles are kept in dir
 *                           (default: a new directory under the system temp dir)
 *   --json                  also print the reports as JSON
 *   --dir <path>            keep the benchmark's database files there
 *   --pg <url>              the PostgreSQL server of the PostgreSQL section (default: $TASKWIRE_BENCH_PG_URL,
 *                           else $TASKWIRE_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test); the section
 *                           creates its schemas there and drops them; unreachable: the section says so and is skipped
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, runEngineBench } from './engine.js';
import { formatGraphqlReport, runGraphqlBench } from './graphql.js';
import { formatPostgresReport, runPostgresBench } from './postgres.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const valueOf = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  const v = i >= 0 ? args[i + 1] : undefined;
  return v && !v.startsWith('--') ? v : undefined;
};
const dir = valueOf('--dir');
const only = valueOf('--only');
const SECTIONS = ['engine', 'graphql', 'postgres'];
if (only !== undefined && !SECTIONS.includes(only)) {
  process.stderr.write(`--only takes engine, graphql or postgres (got "${only}")\n`);
  process.exit(2);
}
if (args.includes('--only') && only === undefined) {
  process.stderr.write('--only takes engine, graphql or postgres\n');
  process.exit(2);
}
const pgUrl = valueOf('--pg');
const runs = (section: string) => only === undefined || only === section;
const profileDir = args.includes('--profile') ? (valueOf('--profile') ?? mkdtempSync(join(tmpdir(), 'taskwire-profiles-'))) : undefined;
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const started = Date.now();
const reports: Record<string, unknown> = {};
if (runs('engine')) {
  const report = await runEngineBench({ quick, dir, log });
  process.stdout.write(`${formatReport(report)}\n\n`);
  reports.engine = report;
}
if (runs('graphql')) {
  const report = await runGraphqlBench({ quick, dir: dir && join(dir, 'graphql'), log, profileDir });
  process.stdout.write(`${formatGraphqlReport(report)}\n`);
  if (profileDir) process.stdout.write(`profiles kept in ${profileDir}\n`);
  reports.graphql = report;
}
if (runs('postgres')) {
  const report = await runPostgresBench({ quick, url: pgUrl, log });
  process.stdout.write(`${only === undefined ? '\n' : ''}${formatPostgresReport(report)}\n`);
  reports.postgres = report;
}
process.stdout.write(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
