/** The taskwire command. `serve` runs the server; more commands come with the CLI issue. */
import { serve } from './server.js';

const [command = 'serve'] = process.argv.slice(2);

if (command === 'serve') {
  await serve();
} else {
  console.error(`taskwire: unknown command "${command}". Try: taskwire serve`);
  process.exit(2);
}
