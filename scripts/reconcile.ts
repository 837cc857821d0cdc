/** `npm run reconcile -- --school <code> --date yyyy-MM-dd`: see scripts/reconcile/main.ts. */
import '../server/src/lib/timezone.js';
import { runReconcile } from './reconcile/main.js';

runReconcile(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reconcile: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
