import assert from 'node:assert/strict';
import { classifyFailure, isAgreementGone } from '../../server/src/integrations/alipay/errors.js';

describe('classifying Alipay failures (ALIPAY.md §4.16)', () => {
  it('treats timeouts-in-disguise as unknown: query before anything else', () => {
    assert.equal(classifyFailure('20000', 'isp.unknow-error'), 'unknown');
    assert.equal(classifyFailure('40004', 'ACQ.SYSTEM_ERROR'), 'unknown');
  });

  it('treats 10003 as a trade waiting for the buyer', () => {
    assert.equal(classifyFailure('10003', undefined), 'pending');
  });

  it('retries an empty balance and rate limits later', () => {
    assert.equal(classifyFailure('40004', 'ACQ.BUYER_BALANCE_NOT_ENOUGH'), 'retryable');
    assert.equal(classifyFailure('40005', 'isv.app-call-limited'), 'retryable');
  });

  it("does not make payers' debts final when the school's authorization expired (20001)", () => {
    assert.equal(classifyFailure('20001', 'aop.app-auth-token-time-out'), 'retryable');
    assert.equal(classifyFailure('20001', 'aop.invalid-app-auth-token'), 'retryable');
  });

  it('treats a gone agreement and bad parameters as final', () => {
    assert.equal(classifyFailure('40004', 'ACQ.AGREEMENT_NOT_EXIST'), 'final');
    assert.ok(isAgreementGone('ACQ.AGREEMENT_NOT_EXIST'));
    assert.ok(isAgreementGone('AGREEMENT_NOT_EXSIT'));
    assert.equal(classifyFailure('40002', 'isv.invalid-parameter'), 'final');
  });
});
