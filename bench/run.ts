/**
 * npm run bench            the engine benchmark, the GraphQL benchmark, the PostgreSQL benchmark, then the peer
 *                          queues (BullMQ on Redis, plainjob on SQLite) (full sizes)
 * npm run bench -- --quick smaller counts, for a smoke run
 * Options:
 *   --only engine|graphql|postgres|peers
 *                           run one of the four, or a comma list (graphql,peers also prints the ratios)
 *   --profile [dir]         after the GraphQL benchmark, run the server under `node --cpu-prof`
 *                           (single enqueue over HTTP and WebSocket, drains over WebSocket and
 *                           HTTP) and summarize each profile; profiles are kept in dir
 *                           (default: a new directory under the system temp dir)
 *   --json                  also print the reports as JSON
 *   --dir <path>            keep the benchmark's database files there
 *   --pg <url>              the PostgreSQL server of the PostgreSQL section (default: $TASKWIRE_BENCH_PG_URL,
 *                           else $TASKWIRE_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test); the section
 *                           creates its schemas there and drops them; unreachable: the section says so and is skipped
 *   --redis <url>           the Redis of the peers section's BullMQ rows (default: $TASKWIRE_BENCH_REDIS_URL, else
 *                           redis://127.0.0.1:6379); unreachable: those rows say so and are skipped
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, runEngineBench } from './engine.js';
import { formatGraphqlReport, runGraphqlBench, type GraphqlReport } from './graphql.js';
import { formatPeerReport, runPeerBench, type PeerReport } from './peers.js';
import { formatRatios } from './ratios.js';
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
const only = valueOf('--only')?.split(',');
const SECTIONS = ['engine', 'graphql', 'postgres', 'peers'];
const unknown = only?.filter((s) => !SECTIONS.includes(s)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`--only takes engine, graphql, postgres or peers, or a comma list of them (got "${unknown.join(',')}")\n`);
  process.exit(2);
}
if (args.includes('--only') && only === undefined) {
  process.stderr.write('--only takes engine, graphql, postgres or peers\n');
  process.exit(2);
}
const pgUrl = valueOf('--pg');
const redisUrl = valueOf('--redis');
const runs = (section: string) => only === undefined || only.includes(section);
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
if (runs('peers')) {
  const report = await runPeerBench({ quick, log, redisUrl, dir: dir && join(dir, 'peers') });
  process.stdout.write(`${only === undefined ? '\n' : ''}${formatPeerReport(report)}\n`);
  reports.peers = report;
}
if (reports.graphql && reports.peers) process.stdout.write(`\n${formatRatios(reports.graphql as GraphqlReport, reports.peers as PeerReport)}\n`);
process.stdout.write(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
