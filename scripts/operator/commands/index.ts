import type { OperatorCommand } from '../command.js';
import { adminCommands } from './admin.js';
import { auditCommands } from './audit.js';
import { rosterCommands } from './roster.js';
import { membercardCommands } from './membercard.js';
import { schoolCommands } from './school.js';
import { terminalCommands } from './terminal.js';

/** Every `npm run operator -- …` command. A capability adds its own list here (see ../command.ts). */
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  ...schoolCommands,
  ...adminCommands,
  ...auditCommands,
  ...rosterCommands,
  ...membercardCommands,
  ...terminalCommands,
];
