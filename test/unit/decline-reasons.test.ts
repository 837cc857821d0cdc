import assert from 'node:assert/strict';
import { DECLINE_REASONS, DECLINE_REASON_TEXT_ZH } from '../../shared/gateway-api.js';

describe('decline reasons for the till', () => {
  it('has a Chinese text for every reason the platform can decline with', () => {
    assert.deepEqual(Object.keys(DECLINE_REASON_TEXT_ZH).sort(), [...DECLINE_REASONS].sort());
  });
});
