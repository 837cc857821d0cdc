import type { InboxKindDefinition } from '../inbox-kind.js';
import { expiredCampusCodes, failedCampusCodes, lateCampusCodes } from './campus-code.js';
import { unpaidDeductions } from './deductions.js';
import { reconciliationFindings } from './reconciliation.js';
import { creditFailedRecharges } from './recharges.js';
import { stuckRefunds } from './refunds.js';
import { terminalOrderProblems } from './terminals.js';
import { cardsOutOfStep, stuckAgreements } from './withholding-setup.js';

/** Every kind of the exceptions inbox, in the order of the mini-program's tabs. Add yours here. */
export const INBOX_KINDS: readonly InboxKindDefinition[] = [
  creditFailedRecharges,
  unpaidDeductions,
  stuckRefunds,
  stuckAgreements,
  cardsOutOfStep,
  reconciliationFindings,
  failedCampusCodes,
  expiredCampusCodes,
  lateCampusCodes,
  terminalOrderProblems,
];
