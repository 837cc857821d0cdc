import assert from 'node:assert/strict';
import { templateUse } from './support/axml.js';
import { builtMiniprogram } from './support/build.js';
import { JsapiFail } from './support/fake-my.js';
import { MiniRuntime, applySetData } from './support/runtime.js';

/** The page harness itself, and the client's own failure paths that need no server. */
describe('page harness', () => {
  let buildDir: string;
  let runtime: MiniRuntime | undefined;
  // Nothing listens on port 9 (discard): every request fails like a phone without network.
  const unreachable = 'http://127.0.0.1:9';

  before(async function () {
    this.timeout(120_000);
    buildDir = (await builtMiniprogram()).outDir;
  });

  afterEach(() => {
    const errors = runtime?.errors ?? [];
    runtime?.close();
    runtime = undefined;
    assert.deepEqual(errors, [], 'a lifecycle hook failed');
  });

  it("merges setData into data like the runtime, 'a.b' and 'a[0].b' paths included", () => {
    const data: Record<string, any> = { card: { balanceText: '¥1.00', holder: '张三' }, rows: [{ id: 'a' }] };
    applySetData(data, {
      'card.balanceText': '¥51.00',
      'rows[0].title': '充值',
      'fresh.deep': 1,
      loading: false,
    });
    assert.deepEqual(data, {
      card: { balanceText: '¥51.00', holder: '张三' },
      rows: [{ id: 'a', title: '充值' }],
      fresh: { deep: 1 },
      loading: false,
    });
    const pageData: Record<string, any> = {};
    const shared = { list: [1] };
    applySetData(pageData, { shared });
    shared.list.push(2);
    assert.deepEqual(pageData.shared, { list: [1] }, 'setData keeps a copy, as data crosses to the renderer');
    assert.throws(() => applySetData(pageData, { handler: () => undefined }), /function/);
  });

  it('reads templates: bindings by root name, loop names excluded, events and component tags', () => {
    const use = templateUse(`
      <view a:for="{{rows}}" a:for-item="row" class="{{row.className}}" data-id="{{row.id}}" onTap="onPick">
        {{row.title}} {{total > 0 ? totalText : 'none'}}
        <ant-button a:if="{{!busy}}" onTap="onPay">{{payText}}</ant-button>
      </view>`);
    assert.deepEqual(
      use.bindings.map((binding) => binding.name),
      ['rows', 'total', 'totalText', 'busy', 'payText'],
    );
    assert.deepEqual(
      use.handlers.map((handler) => `${handler.tag}.${handler.event}=${handler.name}`),
      ['view.onTap=onPick', 'ant-button.onTap=onPay'],
    );
    assert.deepEqual([...new Set(use.tags.map((tag) => tag.tag))], ['view', 'ant-button']);
  });

  it('opens the page a page redirects to, in place of it', async () => {
    runtime = new MiniRuntime({ buildDir, bffUrl: unreachable });
    const bind = runtime.launch('/pages/bind/bind');
    assert.equal(bind.data.isEmpty, true, 'the bind form without a school asks to choose one');
    await bind.call('onChooseSchool');
    const school = await runtime.waitForPage('pages/school/school');
    assert.deepEqual(
      runtime.stack.map((page) => page.route),
      ['pages/school/school'],
    );
    assert.deepEqual(runtime.my.navigations, [{ kind: 'redirectTo', url: '/pages/school/school' }]);
    await school.waitFor((data) => !data.loading);
  });

  it('pushes a page on navigateTo and shows the one below again on navigateBack', async () => {
    runtime = new MiniRuntime({
      buildDir,
      bffUrl: unreachable,
      getAuthCode: async () => ({ authCode: 'x' }),
    });
    const card = runtime.launch('/pages/card/card');
    await card.waitFor((data) => !!data.errorMessage);
    await card.call('onAddCard');
    const school = await runtime.waitForPage('pages/school/school');
    assert.deepEqual(
      runtime.stack.map((page) => page.route),
      ['pages/card/card', 'pages/school/school'],
    );
    // The school list has failed to load before the person goes back: a reload that started while its silent
    // login was still under way would share that login's one request (services/api.ts), and count for none.
    await school.waitFor((data) => !data.loading);
    const requestsBefore = runtime.my.requests.length;
    runtime.my.api.navigateBack();
    await runtime.waitForPage('pages/card/card');
    assert.equal(runtime.stack.length, 1);
    // onShow ran again: the card home reloads when the person comes back to it.
    await card.waitFor(() => runtime!.my.requests.length > requestsBefore);
  });

  it('refuses to call a method the template does not bind to any event', async () => {
    runtime = new MiniRuntime({ buildDir, bffUrl: unreachable });
    const bind = runtime.launch('/pages/bind/bind');
    await assert.rejects(bind.call('chooseAmount'), /binds no event to chooseAmount/);
  });

  it('shows a Chinese sentence, not a stack trace, when the BFF cannot be reached', async () => {
    runtime = new MiniRuntime({
      buildDir,
      bffUrl: unreachable,
      getAuthCode: async () => ({ authCode: 'any' }),
    });
    const entry = runtime.launch();
    await entry.waitFor((data) => !data.loading);
    assert.equal(entry.data.errorMessage, '网络不太好，请检查网络后重试');
    assert.equal(runtime.my.requests[0].failedWith, 12, 'my.request failed with the network error code');
    assert.match(runtime.my.requests[0].url, /^http:\/\/127\.0\.0\.1:9\/api\/v1\/session$/);
  });

  it('asks the person to allow the login when they close the Alipay authorisation (error 11)', async () => {
    runtime = new MiniRuntime({
      buildDir,
      bffUrl: unreachable,
      getAuthCode: async () => {
        throw new JsapiFail(11, 'user cancelled');
      },
    });
    const entry = runtime.launch();
    await entry.waitFor((data) => !data.loading);
    assert.equal(entry.data.errorMessage, '需要您同意支付宝授权才能继续');
    assert.deepEqual(runtime.my.requests, []);
  });

  it('says the login failed when Alipay gives no auth code (e.g. error 10)', async () => {
    runtime = new MiniRuntime({
      buildDir,
      bffUrl: unreachable,
      getAuthCode: async () => {
        throw new JsapiFail(10, 'empty data');
      },
    });
    const entry = runtime.launch();
    await entry.waitFor((data) => !data.loading);
    assert.equal(entry.data.errorMessage, '支付宝登录没有成功，请重试');
  });

  it('stops on a my API the harness does not fake', () => {
    runtime = new MiniRuntime({ buildDir, bffUrl: unreachable });
    assert.throws(() => runtime!.my.api.scan, /my\.scan is not faked/);
  });
});
