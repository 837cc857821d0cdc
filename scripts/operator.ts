/**
 * `npm run operator -- <command> …`: the platform operator's tool (DESIGN §1, §7.0): onboarding schools
 * (create, authorization link, card system, activate, suspend, resume), school admins' invitations, the
 * audit log. `npm run operator -- --help` lists every command; scripts/operator/commands/ holds them and
 * README "Operator commands" says how to add one.
 */
import './operator/quiet-logs.js';
import '../server/src/lib/timezone.js';
import { runOperator } from './operator/main.js';

runOperator(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`operator: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
