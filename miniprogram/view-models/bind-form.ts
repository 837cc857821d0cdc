/** The bind form's rules, checked before the server sees them, and where server refusals are shown. */
import type { Relation } from '../shared/api';
import { RELATION_LABELS_ZH } from '../shared/format';

export const RELATION_OPTIONS: Array<{ text: string; value: Relation }> = [
  { text: RELATION_LABELS_ZH.SELF, value: 'SELF' },
  { text: RELATION_LABELS_ZH.PARENT, value: 'PARENT' },
];

const CARD_NO = /^[A-Za-z0-9]{4,32}$/;

export interface BindFormErrors {
  cardNoError: string;
  holderNameError: string;
}

export function validateBindForm(form: { cardNo: string; holderName: string }): BindFormErrors {
  const cardNo = form.cardNo.trim();
  // Array.from counts characters, not UTF-16 units, so rare-character names are not over-counted.
  const nameLength = Array.from(form.holderName.trim()).length;
  return {
    cardNoError: !cardNo ? '请输入校园卡号' : CARD_NO.test(cardNo) ? '' : '卡号为 4–32 位数字或字母',
    holderNameError: !nameLength ? '请输入持卡人姓名' : nameLength > 32 ? '姓名最多 32 个字' : '',
  };
}

export function hasFormErrors(errors: BindFormErrors): boolean {
  return !!(errors.cardNoError || errors.holderNameError);
}

/**
 * Which input a refusal belongs under; 'form' shows it above the button. The server names a rejected
 * field with its source (`body.cardNo`, shared/api error model).
 */
export function fieldOfBindError(code: string | null, field?: string): 'cardNo' | 'holderName' | 'form' {
  const name = field ? field.replace(/^body\./, '') : '';
  if (code === 'CARD_NAME_MISMATCH') return 'holderName';
  if (code === 'CARD_NOT_FOUND' || code === 'CARD_NOT_NORMAL') return 'cardNo';
  if (code === 'VALIDATION_FAILED' && name === 'cardNo') return 'cardNo';
  if (code === 'VALIDATION_FAILED' && name === 'name') return 'holderName';
  return 'form';
}

export function isRelation(value: unknown): value is Relation {
  return value === 'SELF' || value === 'PARENT';
}
