/**
 * Wires the page harness to a running stack: the BFF is real, and the Alipay app's JSAPIs are played by
 * the Alipay sandbox's control API for one sandbox user — getAuthCode issues a real auth code, tradePay
 * pays the trade from the user's sandbox balance, paySignCenter signs the agreement (which then notifies
 * our BFF exactly as Alipay would), requestSubscribeMessage accepts the templates asked for, addCardAuth
 * claims the card at the card-management sandbox.
 */
import assert from 'node:assert/strict';
import type { Stack, StackUser } from '../../support/stack.js';
import { builtMiniprogram } from './build.js';
import type { FakeMyPlugs } from './fake-my.js';
import { MiniRuntime } from './runtime.js';

export function alipayAppOf(
  stack: Stack,
  user: Pick<StackUser, 'userId' | 'openId'>,
): Required<
  Omit<FakeMyPlugs, 'answerConfirm' | 'navigateToMiniProgram' | 'datePicker' | 'chooseFileFromDisk'>
> {
  const { control, appId } = stack.alipay;
  return {
    getAuthCode: (scopes) =>
      control.issueAuthCode({ userId: user.userId, appId, scopes: scopes as 'auth_base' | 'auth_user' }),
    tradePay: (tradeNO) => control.payTrade({ tradeNO, userId: user.userId }),
    paySignCenter: (signStr) => control.signAgreement({ signStr, userId: user.userId }),
    // The person accepts every template the page asks for.
    requestSubscribeMessage: (templateIds) => control.subscribeMessages({ userId: user.userId, templateIds }),
    // Alipay's claim page for the school's claim link: the person takes the card, card management (the
    // sandbox, which runs under our app here and names the user by open_id) asks our CRM and adds it.
    addCardAuth: async (url) => {
      const templateId = new URL(url).searchParams.get('templateId');
      if (!stack.membercard || !templateId) return { success: false, code: 'JSAPI_PARAM_INVALID' };
      const claim = await stack.membercard.control.claim({ templateId, alipayUserId: user.openId });
      return claim.status === 'CLAIMED'
        ? { success: true, resultStatus: '9000' }
        : { success: false, code: 'JSAPI_SYSTEM_ERROR' };
    },
  };
}

/** The runtimes openMiniprogram opened since the last closeOpenedRuntimes. */
const opened: MiniRuntime[] = [];

/** The mini-program as `user` opens it on their phone, against the stack's BFF. */
export async function openMiniprogram(
  stack: Stack,
  user: Pick<StackUser, 'userId' | 'openId'>,
  overrides: FakeMyPlugs = {},
): Promise<MiniRuntime> {
  const build = await builtMiniprogram();
  const runtime = new MiniRuntime({
    buildDir: build.outDir,
    bffUrl: stack.app.url,
    ...alipayAppOf(stack, user),
    ...overrides,
  });
  opened.push(runtime);
  return runtime;
}

/**
 * The afterEach of every page suite: closes the runtimes the test left open (the process's globals put
 * back) and fails the test when a page lifecycle hook of one of them threw.
 */
export function closeOpenedRuntimes(): void {
  const left = opened.splice(0).filter((runtime) => !runtime.isClosed);
  const errors = left.flatMap((runtime) => [...runtime.errors]);
  for (const runtime of left.reverse()) runtime.close();
  assert.deepEqual(errors, [], 'a page lifecycle hook failed');
}
