import type { DebtsResponse, DebtView, RepayResponse, RepaymentView } from '../../../../shared/api.js';
import {
  attachCampusCodeDebts,
  campusCodeDebtSummary,
  listCampusCodeDebts,
  lockRepayableCampusCodeDebts,
  type CampusCodeDebtRow,
} from '../../db/repos/campus-code/debts.js';
import {
  debtSummary as withholdingDebtSummary,
  listOpenDebts,
  type DebtRow,
} from '../../db/repos/withholding/debts.js';
import {
  attachDebts,
  closeRepayment,
  findOpenRepayment,
  findRepayment,
  findRepaymentByOutTradeNo,
  insertRepayment,
  lockRepayableDebts,
  markRepaymentPaid,
  setRepaymentTradeNo,
  type RepaymentRow,
} from '../../db/repos/withholding/repayments.js';
import { findSchool } from '../../db/repos/schools/schools.js';
import { listBindingsOfUser } from '../../db/repos/cards/bindings.js';
import { placeNames } from '../cards/statement/places.js';
import { findUser } from '../../db/repos/users/users.js';
import type { Deps } from '../../deps.js';
import { AlipayError } from '../../integrations/alipay/errors.js';
import { newOrderNo } from '../../lib/ids.js';
import { DomainError } from '../errors.js';
import { checkTradeFacts, isPaidStatus, type NotificationHandler } from '../notify/notifications.js';
import { alipayFailure, requireAlipay } from '../outside-errors.js';
import { notifyUrl } from '../recharge/recharge.js';

/**
 * Arrears (seed 000 §2.3, DESIGN §7.4): deductions Alipay would not pay (RETRYING, then ARREARS) block the
 * payer's swipes until repaid. A repayment is one ordinary trade (alipay.trade.create, prefix P) for the
 * outstanding total at one school; its deductions stop retrying and point at it, so they can never be
 * charged twice. Paid (notify or sweep) → repayment PAID, deductions SETTLED → approvals resume. Expired
 * unpaid → CLOSED, deductions stay ARREARS for the next repayment.
 *
 * Campus-code payments Alipay refused (FAILED, DESIGN §7.5) are debts too, of every user with a live
 * binding of the student's card (db/repos/campus-code/debts.ts): shown and repaid the same way, in the same
 * repayment. They do not block swipes or unbinding: they are the school's loss, owed but not a withholding
 * the payer failed.
 */

type DebtFacts = Pick<DebtView, 'school' | 'holderName' | 'place'>;

function withholdingDebt(d: DebtRow, facts: DebtFacts): DebtView {
  return {
    ...facts,
    kind: 'WITHHOLDING',
    id: d.id,
    deductionId: d.id,
    txnNo: d.txnNo,
    cardNo: d.cardNo ?? '',
    amountFen: d.amountFen ?? 0,
    occurredAt: (d.occurredAt ?? d.createdAt).toISOString(),
    terminalId: d.terminalId,
    status: d.status as 'RETRYING' | 'ARREARS',
    attempts: d.attempts,
    lastErrorCode: d.lastErrorCode,
    nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  };
}

function campusCodeDebt(p: CampusCodeDebtRow, facts: DebtFacts): DebtView {
  return {
    ...facts,
    kind: 'CAMPUS_CODE',
    id: p.id,
    deductionId: null,
    txnNo: p.txnNo,
    cardNo: p.cardNo,
    amountFen: p.amountFen,
    occurredAt: p.scannedAt.toISOString(),
    terminalId: p.terminalId,
    status: 'FAILED',
    attempts: p.attempts,
    lastErrorCode: p.lastErrorCode,
    nextAttemptAt: null,
  };
}

/**
 * Everything the user owes, per school, with what an open repayment already covers; each debt names its
 * school, whose card it was (the user's binding of it) and the place by name.
 */
async function owedBy(deps: Pick<Deps, 'db'>, userId: string) {
  const [deductions, campusCodes, bindings] = await Promise.all([
    listOpenDebts(deps.db, userId),
    listCampusCodeDebts(deps.db, userId),
    listBindingsOfUser(deps.db, userId),
  ]);
  const place = await placeNames(deps.db, [...deductions, ...campusCodes]);
  const schoolNames = new Map<string, string>();
  for (const schoolId of new Set([...deductions, ...campusCodes].map((d) => d.schoolId))) {
    schoolNames.set(schoolId, (await findSchool(deps.db, schoolId))?.name ?? '');
  }
  const facts = (row: {
    schoolId: string;
    cardNo: string | null;
    gatewayClientId: string | null;
    terminalId: string | null;
  }) => ({
    school: { id: row.schoolId, name: schoolNames.get(row.schoolId) ?? '' },
    holderName:
      bindings.find((b) => b.schoolId === row.schoolId && b.cardNo === row.cardNo)?.holderName ?? null,
    place: place(row),
  });
  return [
    ...deductions.map((d) => ({
      view: withholdingDebt(d, facts(d)),
      schoolId: d.schoolId,
      repaymentId: d.repaymentId,
    })),
    ...campusCodes.map((p) => ({
      view: campusCodeDebt(p, facts(p)),
      schoolId: p.schoolId,
      repaymentId: p.repaymentId,
    })),
  ].sort((a, b) => a.view.occurredAt.localeCompare(b.view.occurredAt));
}

/** What the card home shows: how much is owed, of both kinds, and how many items. */
export async function debtSummary(
  deps: Pick<Deps, 'db'>,
  userId: string,
): Promise<{ totalFen: number; count: number }> {
  const [withholding, campusCodes] = await Promise.all([
    withholdingDebtSummary(deps.db, userId),
    campusCodeDebtSummary(deps.db, userId),
  ]);
  return {
    totalFen: withholding.totalFen + campusCodes.totalFen,
    count: withholding.count + campusCodes.count,
  };
}

export async function listDebts(deps: Pick<Deps, 'db' | 'clock'>, userId: string): Promise<DebtsResponse> {
  const [debts, open] = await Promise.all([
    owedBy(deps, userId),
    findOpenRepayment(deps.db, userId, deps.clock.now()),
  ]);
  const pending = (repayment: RepaymentRow | undefined) =>
    repayment
      ? { repaymentId: repayment.id, tradeNo: repayment.alipayTradeNo, amountFen: repayment.amountFen }
      : null;
  const schools = [];
  for (const schoolId of new Set(debts.map((d) => d.schoolId))) {
    const ofSchool = debts.filter((d) => d.schoolId === schoolId);
    schools.push({
      schoolId,
      schoolName: ofSchool[0].view.school.name,
      totalFen: ofSchool.reduce((sum, d) => sum + d.view.amountFen, 0),
      count: ofSchool.length,
      pendingRepayment: pending(await findOpenRepayment(deps.db, userId, deps.clock.now(), schoolId)),
    });
  }
  return {
    totalFen: debts.reduce((sum, d) => sum + d.view.amountFen, 0),
    items: debts.map((d) => d.view),
    pendingRepayment: pending(open),
    schools,
  };
}

export async function repayDebts(
  deps: Deps,
  userId: string,
  schoolId: string | undefined,
): Promise<RepayResponse> {
  const alipay = requireAlipay(deps);
  const debts = await owedBy(deps, userId);
  const schools = [...new Set(debts.map((d) => d.schoolId))].filter((id) => !schoolId || id === schoolId);
  if (schools.length === 0) throw new DomainError('NO_DEBTS');
  if (schools.length > 1) {
    throw new DomainError('VALIDATION_FAILED', 'body.schoolId: you owe at several schools; say which', {
      field: 'body.schoolId',
    });
  }
  const school = await findSchool(deps.db, schools[0]);
  const user = await findUser(deps.db, userId);
  if (!school || !user) throw new DomainError('SCHOOL_NOT_FOUND');
  const owed = debts.filter((d) => d.schoolId === school.id);
  const open = await findOpenRepayment(deps.db, userId, deps.clock.now(), school.id);
  if (open) {
    // The same debts, the same total: hand the open repayment out again (my.tradePay can be retried).
    const isSame =
      open.schoolId === school.id &&
      open.alipayTradeNo !== null &&
      open.amountFen === owed.reduce((sum, d) => sum + d.view.amountFen, 0) &&
      owed.every((d) => d.repaymentId === open.id);
    if (isSame) return { repaymentId: open.id, tradeNo: open.alipayTradeNo!, amountFen: open.amountFen };
    // Otherwise it must be closed at Alipay before its debts can go into a new one, or both could be paid.
    await reconcileRepayment(deps, open, { close: true }).catch((error: unknown) => {
      throw alipayFailure(error);
    });
  }

  const now = deps.clock.now();
  const repayment = await deps.db.transaction(async (tx) => {
    const deductions = (await lockRepayableDebts(tx, userId, school.id, now)).filter((d) => !d.repaymentId);
    const campusCodes = await lockRepayableCampusCodeDebts(tx, userId, school.id);
    const totalFen = [...deductions, ...campusCodes].reduce((sum, d) => sum + (d.amountFen ?? 0), 0);
    if (totalFen === 0) return undefined;
    const created = await insertRepayment(tx, {
      outTradeNo: newOrderNo('repayment', deps.clock),
      schoolId: school.id,
      userId,
      amountFen: totalFen,
      expiresAt: new Date(now.getTime() + deps.config.deductions.repaymentTimeoutMinutes * 60_000),
    });
    await attachDebts(
      tx,
      created.id,
      deductions.map((d) => d.id),
      now,
    );
    await attachCampusCodeDebts(
      tx,
      created.id,
      campusCodes.map((p) => p.id),
      now,
    );
    return created;
  });
  if (!repayment) {
    // Everything owed is being charged by a collector right now (or was just settled); that decides.
    throw new DomainError('NO_DEBTS', 'Nothing to repay right now; look at the debts again');
  }
  try {
    const { tradeNo } = await alipay.createTrade({
      outTradeNo: repayment.outTradeNo,
      amountFen: repayment.amountFen,
      subject: `${school.name} 校园卡欠款`,
      payer: { openId: user.alipayOpenId, userId: user.alipayUserId },
      notifyUrl: notifyUrl(deps),
      appAuthToken: deps.schools.appAuthToken(school),
      timeoutMinutes: deps.config.deductions.repaymentTimeoutMinutes,
    });
    await setRepaymentTradeNo(deps.db, repayment.id, tradeNo, deps.clock.now());
    return { repaymentId: repayment.id, tradeNo, amountFen: repayment.amountFen };
  } catch (error) {
    // Refused: the repayment can never be paid; let its debts go. Unknown: the sweep settles it.
    if (error instanceof AlipayError && error.kind !== 'unknown')
      await closeRepayment(deps.db, repayment.id, deps.clock.now());
    throw alipayFailure(error);
  }
}

export async function ownRepayment(
  deps: Pick<Deps, 'db'>,
  userId: string,
  id: string,
): Promise<RepaymentView> {
  const repayment = await findRepayment(deps.db, id);
  if (!repayment || repayment.userId !== userId) throw new DomainError('NOT_FOUND', 'No such repayment');
  return {
    id: repayment.id,
    amountFen: repayment.amountFen,
    status: repayment.status,
    tradeNo: repayment.alipayTradeNo,
  };
}

/** P… trades: repayments of arrears. Same checks as recharges (ALIPAY.md §3.3). */
export const repaymentNotification: NotificationHandler = async (deps, tx, form) => {
  const repayment = await findRepaymentByOutTradeNo(tx, form.out_trade_no);
  if (!repayment) return { outcome: 'REJECTED_UNKNOWN_ORDER' };
  const school = await findSchool(tx, repayment.schoolId);
  if (!school) return { outcome: 'REJECTED_UNKNOWN_ORDER', detail: 'school missing' };
  const mismatch = checkTradeFacts(form, { amountFen: repayment.amountFen, school });
  if (mismatch) return mismatch;
  if (isPaidStatus(form.trade_status)) {
    const paid = await markRepaymentPaid(tx, repayment.outTradeNo, {
      tradeNo: form.trade_no,
      at: deps.clock.now(),
    });
    if (!paid) return { outcome: 'ALREADY_APPLIED', detail: `repayment is ${repayment.status}` };
    return { outcome: 'APPLIED', detail: `PAID, ${paid.settled} deductions SETTLED` };
  }
  if (form.trade_status === 'TRADE_CLOSED') {
    const closed = await closeRepayment(tx, repayment.id, deps.clock.now());
    return { outcome: closed ? 'APPLIED' : 'IGNORED', detail: 'TRADE_CLOSED' };
  }
  return { outcome: 'IGNORED', detail: form.trade_status };
};

/**
 * The sweep's look at an unpaid repayment (or a replaced one, `close`): paid → settled as if notified;
 * expired or replaced → closed at Alipay, then CLOSED here with its debts let go.
 */
export async function reconcileRepayment(
  deps: Deps,
  repayment: RepaymentRow,
  options: { close?: boolean } = {},
): Promise<void> {
  const alipay = requireAlipay(deps);
  const school = await findSchool(deps.db, repayment.schoolId);
  if (!school) return;
  const appAuthToken = deps.schools.appAuthToken(school);
  const trade = await alipay.queryTrade({ outTradeNo: repayment.outTradeNo, appAuthToken });
  if (trade && (trade.status === 'TRADE_SUCCESS' || trade.status === 'TRADE_FINISHED')) {
    if (trade.totalFen !== repayment.amountFen) {
      deps.logger.error('repayment paid a different amount; not settling', {
        outTradeNo: repayment.outTradeNo,
      });
      return;
    }
    await deps.db.transaction((tx) =>
      markRepaymentPaid(tx, repayment.outTradeNo, { tradeNo: trade.tradeNo, at: deps.clock.now() }),
    );
    return;
  }
  const isExpired = deps.clock.now() >= repayment.expiresAt;
  if (trade?.status === 'TRADE_CLOSED' || (!trade && (isExpired || options.close))) {
    await closeRepayment(deps.db, repayment.id, deps.clock.now());
  } else if (isExpired || options.close) {
    await alipay.closeTrade({ outTradeNo: repayment.outTradeNo, appAuthToken });
    await closeRepayment(deps.db, repayment.id, deps.clock.now());
  }
}
