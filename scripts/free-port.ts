/** A port on 127.0.0.1 that was free a moment ago (the OS picks it; the listener closes at once). Shared by the benchmark, the soak and the fault tests, which start servers as child processes. */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
