/**
 * JSON shapes of the card-management sandbox's control API (docs/sandbox.md "AntBuilder card management
 * sandbox"), shared by the routes and the typed client. Times are ISO-8601 strings.
 */

/** The open-card form fields a template can ask for (seed 003 入参: name, mobile, certNo, gender). */
export type FormField = 'name' | 'mobile' | 'certNo' | 'gender';

export interface TemplateInput {
  templateId: string;
  name: string;
  /** What the open-card form (开卡表单) asks the user; sent to the CRM's openCardInfo. */
  formFields?: FormField[];
  /** The dynamic code's refresh time in seconds, sent to mdCodeChange as expireTime; default 120. */
  codeExpireSeconds?: number;
}

/** One business system (业务系统) as configured in card management: a school's CRM. */
export interface SystemInput {
  /** Where the CRM's routes are: `${crmBaseUrl}/card/openCardInfo`, … (ours: `<bff>/crm`). */
  crmBaseUrl: string;
  /** The token card management puts in the `token` header. */
  token: string;
  /** The CRM's RSA public key (PEM), for checking the signature of /card/update and /card/changeTemplate. */
  publicKey: string;
  /** The Alipay app id of the card (sent to mdCodeChange). */
  appId: string;
  templates: TemplateInput[];
  /** Per CRM call; default 5000. */
  timeoutMs?: number;
}

export interface SystemView extends Omit<SystemInput, 'token' | 'templates'> {
  systemId: string;
  /** The token is never shown back: only whether one is set and its last 4 characters. */
  tokenHint: string;
  templates: Array<Required<TemplateInput> & { claimUrl: string }>;
}

export type CrmOutcome = 'OK' | 'REFUSED' | 'AUTH_FAILED' | 'CONNECT_FAILED' | 'NO_ANSWER' | 'BAD_ANSWER';

/** One call from card management to the CRM, as it went. */
export interface CrmCallView {
  at: string;
  path: string;
  request: Record<string, unknown>;
  outcome: CrmOutcome;
  httpStatus: number | null;
  answer: unknown;
  errmsg: string | null;
}

/** One call from the CRM to card management (mini-core), as it was judged. */
export interface InboundCallView {
  at: string;
  path: string;
  params: Record<string, string>;
  signatureValid: boolean;
  status: 'OK' | 'FAIL';
  errmsg: string | null;
}

export interface ClaimInput {
  templateId: string;
  alipayUserId: string;
  /** What the user typed in the open-card form; only the template's form fields are sent. */
  form?: Partial<Record<FormField, string>>;
  outString?: string;
}

export interface WalletCardView {
  alipayUserId: string;
  alipayCardNo: string;
  systemId: string;
  templateId: string;
  templateName: string;
  bizCardNo: string;
  cardNo: string;
  point: number;
  level: string | null;
  /** Yuan, as the CRM last answered; null when it did not say. */
  balance: string | null;
  status: 'ACTIVE' | 'REMOVED';
  claimedAt: string;
  /** The last time the card was shown (the CRM queried for points and balance). */
  refreshedAt: string | null;
  code: { codeValue: string; codeExpire: string } | null;
  /** Updates the CRM sent that changed this card, oldest first. */
  updates: Array<{ at: string; path: string; change: string }>;
}

export interface ClaimView {
  status: 'CLAIMED' | 'FAILED';
  /** Why a claim failed, in words. */
  reason: string | null;
  card: WalletCardView | null;
  openCardInfo: CrmCallView;
  cardChange: CrmCallView | null;
}

export interface ShowCardView {
  card: WalletCardView;
  /** The CRM query made to show it; the card keeps its last values when it failed. */
  refresh: CrmCallView;
}

export interface CodeView {
  card: WalletCardView;
  mdCodeChange: CrmCallView;
}

export interface RemoveView {
  card: WalletCardView;
  cardChange: CrmCallView;
}

export type FaultKind = 'HTTP_503' | 'FAIL' | 'HANG';

export interface FaultInput {
  /** `/card/update`, `/card/changeTemplate` or `*`. */
  path?: string;
  kind: FaultKind;
  times?: number;
}

export interface FaultView extends Required<FaultInput> {
  id: string;
  hits: number;
}

export interface ControlErrorBody {
  error: { code: string; message: string; field?: string };
}
