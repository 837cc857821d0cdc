import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  encodeCampusCode,
  type CampusCodeIdentity,
} from '../../../scripts/sandbox/alipay/domain/campus-codes.js';
import type { CampusCodeUpload, CampusCodeUploadAnswer } from '../../../shared/gateway-api.js';
import {
  claimDueCampusCodePayments,
  type ClaimedCampusCodePayment,
} from '../../../server/src/db/repos/campus-code/charges.js';
import type { Gateway } from '../withholding/helpers.js';
import type { Stack } from '../../support/stack.js';
import { eventually } from '../../support/http.js';

let counter = 0;
export function deviceTxnNo(): string {
  counter += 1;
  return `CC${Date.now()}${process.pid}${counter}`;
}

/**
 * What a device uploads for a code it decoded, built with the Alipay sandbox's encoder (what the decoding
 * SDK hands out) but not issued by the sandbox: enough for the upload's rules, not payable at Alipay.
 */
export function offlineCode(
  identity: Partial<CampusCodeIdentity> & { schoolCode: string },
  options: {
    madeAt?: Date;
    templateId?: 4 | 5;
    encodeType?: 'GB2312' | 'UTF-8';
    amountFen?: number;
    scannedAt?: Date;
    terminalId?: string;
  } = {},
): CampusCodeUpload {
  const madeAt = options.madeAt ?? new Date();
  const code = encodeCampusCode(
    { studentNo: '20260003', studentName: '王小明', identifyId: 'E1', cardType: 1, ...identity },
    {
      templateId: options.templateId ?? 4,
      encodeType: options.encodeType ?? 'GB2312',
      inUseTime: madeAt.getTime(),
    },
  );
  return {
    txnNo: deviceTxnNo(),
    terminalId: options.terminalId ?? 'POS-CC-01',
    finalData: crypto.randomBytes(200).toString('base64'),
    userData: code.userData.toString('base64'),
    templateId: code.templateId,
    encodeType: code.encodeType,
    inUseTime: code.inUseTime,
    amountFen: options.amountFen ?? 1_250,
    scannedAt: (options.scannedAt ?? new Date(madeAt.getTime() + 20_000)).toISOString(),
  };
}

/** A code the Alipay sandbox issued to a user: payable, charges that user. */
export async function issuedCode(
  stack: Stack,
  userId: string,
  student: { studentNo: string; studentName: string },
  options: { amountFen?: number; terminalId?: string; templateId?: 4 | 5; schoolCode?: string } = {},
): Promise<CampusCodeUpload> {
  const code = await stack.alipay.control.issueCampusCode({
    userId,
    schoolCode: options.schoolCode ?? stack.school.code,
    templateId: options.templateId,
    studentNo: student.studentNo,
    studentName: student.studentName,
  });
  return {
    txnNo: deviceTxnNo(),
    terminalId: options.terminalId ?? 'POS-CC-01',
    finalData: code.finalData,
    userData: code.userData,
    templateId: code.templateId,
    encodeType: code.encodeType,
    inUseTime: code.inUseTime,
    amountFen: options.amountFen ?? 1_250,
    scannedAt: new Date().toISOString(),
  };
}

export function uploadBatch(gateway: Gateway, payments: CampusCodeUpload[]) {
  return gateway.post('/gateway/v1/campus-code/payments', { payments });
}

/**
 * A payment of a student with `balanceFen` at Alipay, uploaded and ACCEPTED (asserted), then claimed as the
 * drainer claims it: for tests that play the drainer (ROLE api).
 */
export async function claimedCampusCodePayment(
  stack: Stack,
  device: Gateway,
  balanceFen: number,
  student: { studentNo: string; studentName: string },
  amountFen: number,
): Promise<ClaimedCampusCodePayment> {
  const { userId } = await stack.createUser(balanceFen);
  const res = await uploadBatch(device, [await issuedCode(stack, userId, student, { amountFen })]);
  const [answer] = (res.body as CampusCodeUploadAnswer).results;
  assert.equal(answer.result, 'ACCEPTED', res.text);
  const now = new Date();
  const rows = await claimDueCampusCodePayments(stack.app.deps.db, {
    now,
    leaseUntil: new Date(now.getTime() + 60_000),
    limit: 1000,
  });
  const row = rows.find((r) => r.paymentNo === answer.paymentNo);
  assert.ok(row?.generatedAt, 'claimed, with the time the code was made');
  return row;
}

export async function waitForCampusCodePayment(
  gateway: Gateway,
  txnNo: string,
  status: string,
  timeoutMs = 15_000,
) {
  return eventually(
    async () => {
      const res = await gateway.get(`/gateway/v1/campus-code/payments/${txnNo}`);
      return res.body?.status === status ? res.body : undefined;
    },
    { timeoutMs, message: `campus-code payment ${txnNo} never became ${status}` },
  );
}
