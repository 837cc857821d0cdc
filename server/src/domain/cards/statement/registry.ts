import { campusCodeStatementSource } from '../../campus-code/statement-source.js';
import { rechargeStatementSource } from '../../recharge/statement-source.js';
import {
  refundStatementSource,
  repaymentStatementSource,
  withholdingStatementSource,
} from '../../withholding/statement-source.js';
import { terminalStatementSource } from '../../terminals/statement-source.js';
import type { StatementSource } from './sources.js';

/** Every kind of our records a card's statement merges with the card system's (see sources.ts). */
export const STATEMENT_SOURCES: readonly StatementSource[] = [
  rechargeStatementSource,
  withholdingStatementSource,
  repaymentStatementSource,
  refundStatementSource,
  campusCodeStatementSource,
  terminalStatementSource,
];
