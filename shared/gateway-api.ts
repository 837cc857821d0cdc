/**
 * The POS gateway API (`/gateway/v1`, DESIGN §6.2, docs/gateway-api.md): the answer shapes shared by the
 * platform and the reference client in scripts/pos-client.ts. Signing is in gateway-signature.ts.
 */

/** The answer to `POST /deductions` (and to a repeat of it with the same txnNo). */
export interface DeductionAnswer {
  txnNo: string;
  /** The platform's deduction number (also the Alipay out_trade_no of its first charge). */
  deductionId: string;
  decision: 'APPROVED' | 'DECLINED';
  reason?: string;
  status: string;
}
