/** The bind form's rules, checked before the server sees them, and where server refusals are shown. */
import type { BindingProof, Relation, RosterMatch, SchoolView } from '../shared/api';
import { BINDING_PROOF_LABELS_ZH, RELATION_LABELS_ZH } from '../shared/format';
import { isValidIdNumber, normaliseIdNumber } from '../shared/id-number';
import { normaliseMobile } from '../shared/phone';

export const RELATION_OPTIONS: Array<{ text: string; value: Relation }> = [
  { text: RELATION_LABELS_ZH.SELF, value: 'SELF' },
  { text: RELATION_LABELS_ZH.PARENT, value: 'PARENT' },
];

/** What the person types as proof besides card number and name (README "Binding"). */
export type ProofKind = 'ID_NUMBER' | 'PHONE' | 'STUDENT_NO';

/** A school with a roster asks for the ID number (or a phone instead); one without, for the student number. */
export function proofKindsFor(bindProof: SchoolView['bindProof'] | null): ProofKind[] {
  return bindProof === 'ROSTER' ? ['ID_NUMBER', 'PHONE'] : ['STUDENT_NO'];
}

export const PROOF_INPUTS: Readonly<
  Record<ProofKind, { label: string; placeholder: string; maxLength: number }>
> = {
  ID_NUMBER: {
    label: '持卡人身份证号',
    placeholder: '身份证号码，或最后 6 位',
    maxLength: 18,
  },
  PHONE: { label: '学校登记的手机号', placeholder: '学生本人或家长在学校登记的手机号', maxLength: 13 },
  STUDENT_NO: { label: '学号', placeholder: '卡面或学生证上的学号', maxLength: 32 },
};

const CARD_NO = /^[A-Za-z0-9]{4,32}$/;
const ID_TAIL = /^[0-9]{5}[0-9X]$/;

export interface BindFormErrors {
  cardNoError: string;
  holderNameError: string;
  proofError: string;
}

function proofError(kind: ProofKind, value: string): string {
  const text = value.trim();
  if (!text)
    return kind === 'STUDENT_NO' ? '请输入学号' : kind === 'PHONE' ? '请输入手机号' : '请输入身份证号';
  if (kind === 'ID_NUMBER') {
    const id = normaliseIdNumber(text);
    return ID_TAIL.test(id) || isValidIdNumber(id) ? '' : '请输入 18 位身份证号（校验位正确）或最后 6 位';
  }
  if (kind === 'PHONE') return normaliseMobile(text) ? '' : '请输入 11 位手机号';
  return /^[A-Za-z0-9-]{1,32}$/.test(text) ? '' : '学号为数字、字母或短横线';
}

export function validateBindForm(form: {
  cardNo: string;
  holderName: string;
  proofKind: ProofKind;
  proofValue: string;
}): BindFormErrors {
  const cardNo = form.cardNo.trim();
  // Array.from counts characters, not UTF-16 units, so rare-character names are not over-counted.
  const nameLength = Array.from(form.holderName.trim()).length;
  return {
    cardNoError: !cardNo ? '请输入校园卡号' : CARD_NO.test(cardNo) ? '' : '卡号为 4–32 位数字或字母',
    holderNameError: !nameLength ? '请输入持卡人姓名' : nameLength > 32 ? '姓名最多 32 个字' : '',
    proofError: proofError(form.proofKind, form.proofValue),
  };
}

export function hasFormErrors(errors: Partial<BindFormErrors>): boolean {
  return !!(errors.cardNoError || errors.holderNameError || errors.proofError);
}

/** The request field the typed proof goes in. */
export function proofField(
  kind: ProofKind,
  value: string,
): { idNumber?: string; phone?: string; studentNo?: string } {
  const text = value.trim();
  if (kind === 'ID_NUMBER') return { idNumber: normaliseIdNumber(text) };
  if (kind === 'PHONE') return { phone: normaliseMobile(text) ?? text };
  return { studentNo: text };
}

/** The "find my card by name and ID number" form: a whole, checksum-valid ID number. */
export function validateLookupForm(form: { lookupName: string; lookupIdNumber: string }) {
  const name = form.lookupName.trim();
  const id = normaliseIdNumber(form.lookupIdNumber);
  return {
    lookupNameError: name ? '' : '请输入持卡人姓名',
    lookupIdNumberError: !id
      ? '请输入身份证号'
      : isValidIdNumber(id)
        ? ''
        : '身份证号不正确，请核对（18 位，含校验位）',
  };
}

/**
 * Which input a refusal belongs under; 'form' shows it above the button. The server names a rejected
 * field with its source (`body.cardNo`, shared/api error model).
 */
export function fieldOfBindError(
  code: string | null,
  field?: string,
): 'cardNo' | 'holderName' | 'proof' | 'form' {
  const name = field ? field.replace(/^body\./, '') : '';
  if (code === 'CARD_NAME_MISMATCH') return 'holderName';
  if (code === 'CARD_NOT_FOUND' || code === 'CARD_NOT_NORMAL')
    return name === 'matchToken' ? 'form' : 'cardNo';
  if (code === 'IDENTITY_NOT_VERIFIED' && name !== 'matchToken') return 'proof';
  if (code === 'VALIDATION_FAILED' && name === 'cardNo') return 'cardNo';
  if (code === 'VALIDATION_FAILED' && name === 'name') return 'holderName';
  if (code === 'VALIDATION_FAILED' && ['idNumber', 'phone', 'studentNo'].includes(name)) return 'proof';
  return 'form';
}

export function isRelation(value: unknown): value is Relation {
  return value === 'SELF' || value === 'PARENT';
}

export function isProofKind(value: unknown): value is ProofKind {
  return value === 'ID_NUMBER' || value === 'PHONE' || value === 'STUDENT_NO';
}

export interface MatchRow {
  token: string;
  title: string;
  detail: string;
  isBound: boolean;
}

/** A roster match as a row to tap: masked name and card, who the user is to the holder and how it was found. */
export function toMatchRows(matches: RosterMatch[]): MatchRow[] {
  return matches.map((match, index) => ({
    token: match.matchToken ?? `bound-${index}`,
    title: `${match.holderNameMasked} · 卡号 ${match.cardNoMasked}`,
    detail: `${RELATION_LABELS_ZH[match.relation]} · ${proofLabel(match.proof)}${match.isBound ? ' · 已绑定' : ''}`,
    isBound: match.isBound,
  }));
}

function proofLabel(proof: BindingProof): string {
  return BINDING_PROOF_LABELS_ZH[proof];
}
