import type { SandboxContext } from '../context.js';
import type { ApiFaultSpec } from '../faults.js';
import type { SignType } from '../protocol/sign-content.js';
import type { AppAuthToken, Merchant, RegisteredApp } from '../state/types.js';

/** A request that passed every gateway check (ALIPAY.md §7 item 2), ready for its API handler. */
export interface GatewayCall {
  method: string;
  /** Every param, query and form merged, decoded. */
  params: Readonly<Record<string, string>>;
  /** Parsed biz_content, `{}` when absent. */
  biz: Readonly<Record<string, unknown>>;
  app: RegisteredApp;
  /** The merchant the call acts for: the app's own, or the one behind `app_auth_token` (ALIPAY.md §1.5). */
  merchant: Merchant;
  appAuthToken?: AppAuthToken;
  signType: SignType;
  /** Set by a `payInProcess` fault for this call. */
  payInProcess?: ApiFaultSpec['payInProcess'];
}

/** Returns the inner object of the `<method>_response` (with code/msg unless the API has none), or throws AlipayError. */
export type ApiHandler = (ctx: SandboxContext, call: GatewayCall) => Record<string, unknown>;

export interface ApiDefinition {
  handle: ApiHandler;
  /** Failures go under `error_response` (alipay.system.oauth.token, ALIPAY.md §2.1, §7 item 4). */
  errorsUnderErrorResponse?: boolean;
  /** A page API (opened by the Alipay client, not exec'd): the gateway answers with a short HTML note. */
  isPageApi?: boolean;
}
