import type { SandboxContext } from '../context.js';
import { newAppAuthCode, newAppId } from '../ids.js';
import { parseAppPublicKey } from '../keys.js';
import type { AppAuthorization, IdMode, Merchant, RegisteredApp } from '../state/types.js';
import { createMerchant } from './accounts.js';

/**
 * Registers (or re-registers) an app: its RSA2 public key checks request signatures, its id mode decides
 * user_id / open_id fields. Every app gets its own merchant; re-registering keeps it.
 */
export interface AppSettings {
  appGatewayUrl?: string;
  messageTopics?: string[];
  authRedirectUri?: string;
}

export function registerApp(
  ctx: SandboxContext,
  input: { appId?: string; publicKey: string; idMode?: IdMode; name?: string } & AppSettings,
): RegisteredApp {
  const appId = input.appId ?? newAppId();
  const existing = ctx.state.apps.get(appId);
  const merchant: Merchant =
    existing?.merchant ??
    ctx.state.merchantsByAppId.get(appId) ??
    createMerchant(ctx, { appId, name: input.name });
  const app: RegisteredApp = {
    appId,
    name: input.name ?? existing?.name ?? `Sandbox app ${appId}`,
    publicKey: parseAppPublicKey(input.publicKey),
    publicKeyPem: input.publicKey,
    idMode: input.idMode ?? existing?.idMode ?? 'open_id',
    merchant,
    appGatewayUrl: input.appGatewayUrl ?? existing?.appGatewayUrl,
    messageTopics: new Set(input.messageTopics ?? existing?.messageTopics ?? []),
    authRedirectUri: input.authRedirectUri ?? existing?.authRedirectUri,
  };
  ctx.state.apps.set(appId, app);
  ctx.state.indexApp(appId);
  return app;
}

/** The app's gateway, subscriptions and authorization callback (the open platform console's settings). */
export function configureApp(app: RegisteredApp, settings: AppSettings): RegisteredApp {
  if (settings.appGatewayUrl !== undefined) app.appGatewayUrl = settings.appGatewayUrl || undefined;
  if (settings.messageTopics !== undefined) app.messageTopics = new Set(settings.messageTopics);
  if (settings.authRedirectUri !== undefined) app.authRedirectUri = settings.authRedirectUri || undefined;
  return app;
}

/**
 * Stands in for a school authorising the ISV on appToAppAuth.htm (ALIPAY.md §4.13): returns the
 * app_auth_code that the ISV exchanges with alipay.open.auth.token.app. An existing app id reuses its merchant.
 */
export function authorizeMerchant(
  ctx: SandboxContext,
  input: { isvAppId: string; merchantAppId?: string; merchantName?: string; ttlMs: number },
): AppAuthorization {
  const merchant =
    (input.merchantAppId && ctx.state.merchantsByAppId.get(input.merchantAppId)) ||
    createMerchant(ctx, { appId: input.merchantAppId, name: input.merchantName });
  const authorization: AppAuthorization = {
    appAuthCode: newAppAuthCode(),
    isvAppId: input.isvAppId,
    merchant,
    codeExpiresAt: new Date(ctx.clock.nowMs() + input.ttlMs),
    codeUsed: false,
  };
  ctx.state.appAuthorizations.set(authorization.appAuthCode, authorization);
  return authorization;
}
