import assert from 'node:assert/strict';
import {
  buildGatewayHeaders,
  gatewayStringToSign,
  isGatewayTimestampFresh,
  gatewaySecretKey,
  signGatewayRequest,
  verifyGatewaySignature,
} from '../../../shared/gateway-signature.js';

// Worked example of DESIGN §6.2, checked independently with:
//   H=$(printf '%s' "$BODY" | sha256sum | cut -d' ' -f1)
//   printf 'POST\n/gateway/v1/deductions\n1700000000000\nn-0001\n%s' "$H" | openssl dgst -sha256 -hmac demo-secret
const SECRET = 'demo-secret';
const BODY =
  '{"txnNo":"POS1","cardNo":"20240001","amountFen":1200,"terminalId":"T1","occurredAt":"2023-11-14T22:13:20.000Z"}';
const DEDUCTION = {
  method: 'POST',
  path: '/gateway/v1/deductions',
  timestamp: 1700000000000,
  nonce: 'n-0001',
  body: BODY,
};
const DEDUCTION_SIGNATURE = 'f60717e2e8fc79e85b15d8b95bb5b934cd0dd4210b8a56e628c8aa317f284599';

describe('gateway signature (DESIGN §6.2)', () => {
  it('signs METHOD, PATH, TIMESTAMP, NONCE and the body hash, one per line', () => {
    assert.equal(
      gatewayStringToSign(DEDUCTION),
      'POST\n/gateway/v1/deductions\n1700000000000\nn-0001\n2ebf156d75e4910bc37b07aeba8af312f4725b5c6544856eb5dca4846e4b1c43',
    );
  });

  it('produces the worked example signature as lower-case hex HMAC-SHA256', () => {
    assert.equal(signGatewayRequest(SECRET, DEDUCTION), DEDUCTION_SIGNATURE);
    assert.equal(signGatewayRequest(SECRET, { ...DEDUCTION, method: 'post' }), DEDUCTION_SIGNATURE);
    assert.equal(signGatewayRequest(SECRET, { ...DEDUCTION, body: Buffer.from(BODY) }), DEDUCTION_SIGNATURE);
  });

  it('signs and verifies with the key made once of a secret exactly as with the secret itself', () => {
    for (const secret of [SECRET, '密钥-non-ascii-secret']) {
      const key = gatewaySecretKey(secret);
      const signature = signGatewayRequest(secret, DEDUCTION);
      assert.equal(signGatewayRequest(key, DEDUCTION), signature);
      assert.equal(verifyGatewaySignature(key, DEDUCTION, signature), true);
    }
    assert.equal(
      verifyGatewaySignature(gatewaySecretKey('other-secret'), DEDUCTION, DEDUCTION_SIGNATURE),
      false,
    );
  });

  it('signs a reversal with its empty JSON object body', () => {
    const reversal = {
      method: 'POST',
      path: '/gateway/v1/deductions/POS1/reversal',
      timestamp: '1700000000000',
      nonce: 'n-0002',
      body: '{}',
    };
    assert.equal(
      signGatewayRequest(SECRET, reversal),
      'd95cde8a3ff61595ef69746af0e54ed66f9f23b9fe3be02fc37782105fb22100',
    );
  });

  it('verifies the right signature in either hex case and refuses any change', () => {
    assert.equal(verifyGatewaySignature(SECRET, DEDUCTION, DEDUCTION_SIGNATURE), true);
    assert.equal(verifyGatewaySignature(SECRET, DEDUCTION, DEDUCTION_SIGNATURE.toUpperCase()), true);
    assert.equal(verifyGatewaySignature('other-secret', DEDUCTION, DEDUCTION_SIGNATURE), false);
    assert.equal(
      verifyGatewaySignature(
        SECRET,
        { ...DEDUCTION, body: BODY.replace('1200', '1201') },
        DEDUCTION_SIGNATURE,
      ),
      false,
    );
    assert.equal(
      verifyGatewaySignature(SECRET, { ...DEDUCTION, nonce: 'n-0002' }, DEDUCTION_SIGNATURE),
      false,
    );
    assert.equal(
      verifyGatewaySignature(
        SECRET,
        { ...DEDUCTION, path: '/gateway/v1/deductions?x=1' },
        DEDUCTION_SIGNATURE,
      ),
      false,
    );
  });

  it('answers false, never throws, for signatures that are not 64 hex digits', () => {
    for (const bad of ['', 'zz', DEDUCTION_SIGNATURE.slice(2), `${DEDUCTION_SIGNATURE}00`, 'g'.repeat(64)]) {
      assert.equal(verifyGatewaySignature(SECRET, DEDUCTION, bad), false, bad);
    }
    assert.equal(verifyGatewaySignature(SECRET, DEDUCTION, undefined as unknown as string), false);
  });

  it('builds the four headers that verify on the other side', () => {
    const headers = buildGatewayHeaders({
      clientId: 'pos-1',
      secret: SECRET,
      method: 'POST',
      path: DEDUCTION.path,
      body: BODY,
      timestamp: 1700000000000,
      nonce: 'n-0001',
    });
    assert.deepEqual(headers, {
      'X-Client-Id': 'pos-1',
      'X-Timestamp': '1700000000000',
      'X-Nonce': 'n-0001',
      'X-Signature': DEDUCTION_SIGNATURE,
    });
    const fresh = buildGatewayHeaders({
      clientId: 'pos-1',
      secret: SECRET,
      method: 'GET',
      path: '/gateway/v1/deductions/POS1',
      body: '',
    });
    assert.match(fresh['X-Nonce'], /^[0-9a-f]{32}$/);
    assert.equal(
      verifyGatewaySignature(
        SECRET,
        {
          method: 'GET',
          path: '/gateway/v1/deductions/POS1',
          timestamp: fresh['X-Timestamp'],
          nonce: fresh['X-Nonce'],
          body: '',
        },
        fresh['X-Signature'],
      ),
      true,
    );
  });

  it('accepts timestamps within five minutes either way and nothing else', () => {
    const now = 1700000000000;
    assert.equal(isGatewayTimestampFresh(String(now - 5 * 60_000), now), true);
    assert.equal(isGatewayTimestampFresh(now + 5 * 60_000, now), true);
    assert.equal(isGatewayTimestampFresh(String(now - 5 * 60_000 - 1), now), false);
    assert.equal(isGatewayTimestampFresh('1.7e12', now), false);
    assert.equal(isGatewayTimestampFresh('', now), false);
  });
});
