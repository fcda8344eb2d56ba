/**
 * npm run bench            full run (1,000,000-task queue for the big claim case)
 * npm run bench -- --quick smaller counts (100,000-task queue), for a smoke run
 * Options: --json (also print the report as JSON), --dir <path> (keep files there).
 */
import { formatReport, runEngineBench } from './engine.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const dirIndex = args.indexOf('--dir');
const dir = dirIndex >= 0 ? args[dirIndex + 1] : undefined;

const started = Date.now();
const report = await runEngineBench({ quick, dir, log: (line) => process.stderr.write(`[bench] ${line}\n`) });
process.stdout.write(`${formatReport(report)}\n`);
process.stdout.write(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
