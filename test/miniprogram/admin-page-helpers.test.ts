import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { messageForCode } from '../../shared/messages-zh.js';
import { builtMiniprogram } from './support/build.js';
import { applySetData } from './support/runtime.js';

/**
 * The helpers the admin pages share, as built (CommonJS), on a page instance like the runtime's: the paged
 * list (services/paged-list), acting on an item (services/item-actions), the form pages (services/form-page)
 * and the inbox tab query (view-models/admin-operations). The pages themselves are driven
 * against the real BFF in the *-pages suites.
 */
async function builtModule(relative: string): Promise<any> {
  const build = await builtMiniprogram();
  return createRequire(path.join(build.outDir, 'app.js'))(relative);
}

function fakePage(data: Record<string, any>, load: () => Promise<void> = async () => undefined) {
  return {
    data,
    setData(patch: Record<string, unknown>) {
      applySetData(this.data, patch);
    },
    load,
  };
}

/** The two `my` JSAPIs these helpers call: the toast and the confirmation dialog. */
function fakeMy(confirmed: boolean) {
  const toasts: Array<{ content: string; type: string }> = [];
  const scope = globalThis as Record<string, unknown>;
  const saved = scope.my;
  scope.my = {
    showToast: (options: { content: string; type: string }) => toasts.push(options),
    confirm: (options: { success: (answer: { confirm: boolean }) => void }) =>
      options.success({ confirm: confirmed }),
  };
  return { toasts, restore: () => (scope.my = saved) };
}

const FAILED = new Error('network down');
const toRow = (n: number) => ({ id: n });

describe('paged admin lists (services/paged-list)', () => {
  let PagedList: any;

  before(async function () {
    this.timeout(120_000);
    ({ PagedList } = await builtModule('./services/paged-list.js'));
  });

  it('shows the first page, then appends one next page at a time until the cursor runs out', async () => {
    const list = new PagedList({
      rowsKey: 'entries',
      cursorKey: 'nextBefore',
      tracksHasMore: true,
      nextPageFailure: 'error-state',
    });
    const page = fakePage({
      loading: true,
      errorMessage: '',
      entries: [],
      nextBefore: null,
      loadingMore: false,
    });
    await list.load(page, async () => ({
      title: '操作记录',
      ...list.firstPage({ items: [1, 2], nextBefore: 2 }, toRow),
    }));
    assert.deepEqual(page.data, {
      loading: false,
      errorMessage: '',
      title: '操作记录',
      entries: [{ id: 1 }, { id: 2 }],
      isEmpty: false,
      nextBefore: 2,
      hasMore: true,
      loadingMore: false,
    });

    const asked: number[] = [];
    const read = async (before: number) => {
      asked.push(before);
      return { items: [3], nextBefore: null };
    };
    await Promise.all([list.loadNext(page, read, toRow), list.loadNext(page, read, toRow)]);
    await list.loadNext(page, read, toRow);
    assert.deepEqual(asked, [2], 'one request for the second page, none after the last');
    assert.deepEqual(page.data.entries, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.deepEqual([page.data.nextBefore, page.data.hasMore, page.data.loadingMore], [null, false, false]);
  });

  it('says an empty first page is empty, and keeps the rows on screen during a reload when asked', async () => {
    const list = new PagedList({
      rowsKey: 'rows',
      cursorKey: 'nextCursor',
      tracksHasMore: false,
      nextPageFailure: 'toast',
    });
    const page = fakePage({ loading: false, errorMessage: '', rows: [{ id: 9 }], nextCursor: null });
    let loadingWhileRead: unknown;
    await list.load(
      page,
      async () => {
        loadingWhileRead = page.data.loading;
        return list.firstPage({ items: [], nextCursor: null }, toRow);
      },
      { spinner: false },
    );
    assert.equal(loadingWhileRead, false);
    assert.deepEqual(page.data, {
      loading: false,
      errorMessage: '',
      rows: [],
      isEmpty: true,
      nextCursor: null,
    });
  });

  it('shows a failed first page in the error state, and a failed next page where the page chose', async () => {
    const my = fakeMy(true);
    try {
      const sentence = messageForCode(null);
      const inState = new PagedList({
        rowsKey: 'rows',
        cursorKey: 'nextBefore',
        tracksHasMore: true,
        nextPageFailure: 'error-state',
      });
      const page = fakePage({
        loading: true,
        errorMessage: '',
        rows: [],
        nextBefore: 'c1',
        loadingMore: false,
      });
      await inState.load(page, async () => Promise.reject(FAILED));
      assert.deepEqual([page.data.loading, page.data.errorMessage], [false, sentence]);
      page.setData({ errorMessage: '', rows: [{ id: 1 }] });
      await inState.loadNext(page, async () => Promise.reject(FAILED), toRow);
      assert.deepEqual(
        [page.data.errorMessage, page.data.rows, page.data.nextBefore, page.data.loadingMore],
        [sentence, [{ id: 1 }], 'c1', false],
      );

      const asToast = new PagedList({
        rowsKey: 'rows',
        cursorKey: 'nextCursor',
        tracksHasMore: false,
        nextPageFailure: 'toast',
      });
      const search = fakePage({ errorMessage: '', rows: [{ id: 1 }], nextCursor: 'c1', loadingMore: false });
      await asToast.loadNext(search, async () => Promise.reject(FAILED), toRow);
      assert.deepEqual(my.toasts, [{ content: sentence, type: 'none', duration: 2000 }]);
      assert.deepEqual(
        [search.data.errorMessage, search.data.rows, search.data.nextCursor],
        ['', [{ id: 1 }], 'c1'],
      );
    } finally {
      my.restore();
    }
  });
});

describe('acting on an admin item (services/item-actions)', () => {
  let actions: any;
  const WAIVE = { name: 'waive', label: '免除欠款', needsReason: true };
  const RETRY = { name: 'retry-credit', label: '重新入账', needsReason: false };
  const rows = [{ key: 'k1' }, { key: 'k2' }];

  before(async function () {
    this.timeout(120_000);
    actions = await builtModule('./services/item-actions.js');
  });

  function actionPage() {
    let loads = 0;
    const page = fakePage({ busyKey: '', reasonFor: null, reason: '', reasonError: '' }, async () => {
      loads++;
    });
    return { page, loads: () => loads };
  }

  it('asks for the reason under the item, refuses a blank one, and runs the action with it trimmed', async () => {
    const my = fakeMy(true);
    try {
      const { page, loads } = actionPage();
      assert.equal(await actions.confirmAction(page, 'k2', WAIVE, '欠款 ¥1.00'), false);
      assert.deepEqual(page.data.reasonFor, { key: 'k2', action: 'waive', label: '免除欠款' });
      assert.equal(actions.reasonedAction(page, rows), null);
      assert.equal(page.data.reasonError, '请写明原因（2–200 个字）');
      actions.reasonInputHandlers.onReasonInput.call(page, '  学校承担 ');
      assert.equal(page.data.reasonError, '');
      const answered = actions.reasonedAction(page, rows);
      assert.deepEqual(answered, { row: { key: 'k2' }, action: 'waive', reason: '学校承担' });

      const ran: string[] = [];
      await actions.runAction(
        page,
        'k2',
        async () => {
          ran.push(page.data.busyKey);
          return { changed: true, status: 'WAIVED', message: '已免除' };
        },
        (result: { message: string }) => result.message,
      );
      assert.deepEqual(ran, ['k2']);
      assert.deepEqual(my.toasts, [{ content: '已免除', type: 'success', duration: 2000 }]);
      assert.deepEqual([page.data.reasonFor, page.data.reason, page.data.busyKey], [null, '', '']);
      assert.equal(loads(), 1, 'the page is read again');
    } finally {
      my.restore();
    }
  });

  it('confirms an action without reason in a dialog, and runs one action at a time', async () => {
    const my = fakeMy(true);
    try {
      const { page, loads } = actionPage();
      assert.equal(await actions.confirmAction(page, 'k1', RETRY, '充值 ¥15.00'), true);
      assert.equal(page.data.reasonFor, null);

      page.setData({ busyKey: 'k2' });
      let called = false;
      await actions.runAction(
        page,
        'k1',
        async () => {
          called = true;
          return { changed: true, status: 'CREDITED', message: '' };
        },
        () => '',
      );
      assert.deepEqual([called, loads(), page.data.busyKey], [false, 0, 'k2']);
    } finally {
      my.restore();
    }
  });

  it('tells a failed action and keeps the reason typed, then reads the page again', async () => {
    const my = fakeMy(true);
    try {
      const { page, loads } = actionPage();
      page.setData({ reasonFor: { key: 'k1', action: 'waive', label: '免除欠款' }, reason: '学校承担' });
      await actions.runAction(
        page,
        'k1',
        async () => Promise.reject(FAILED),
        () => '',
      );
      assert.deepEqual(my.toasts, [{ content: messageForCode(null), type: 'fail', duration: 2000 }]);
      assert.deepEqual(
        [page.data.reasonFor?.key, page.data.reason, page.data.busyKey],
        ['k1', '学校承担', ''],
      );
      assert.equal(loads(), 1);
    } finally {
      my.restore();
    }
  });
});

describe('admin form pages (services/form-page)', () => {
  let form: any;
  let ApiError: any;

  before(async function () {
    this.timeout(120_000);
    form = await builtModule('./services/form-page.js');
    ({ ApiError } = await builtModule('./services/api-error.js'));
  });

  const formPage = () =>
    fakePage({
      form: { name: '旧名', phone: '' },
      errors: { name: '学校名称为 1–40 个字', phone: '请输入电话号码' },
      formError: '保存失败',
    });

  it('puts a typed value into the form and clears that input’s error and the form’s, not the others', () => {
    const page = formPage();
    form.editField(page, 'name', '新名');
    assert.deepEqual(page.data.form, { name: '新名', phone: '' });
    assert.deepEqual(page.data.errors, { name: '', phone: '请输入电话号码' });
    assert.equal(page.data.formError, '');
  });

  it('shows a refusal under the input of the field the server names, else as the form’s error', () => {
    const fieldOf = (field: string | undefined) => (field === 'body.servicePhone' ? 'phone' : null);
    const page = formPage();
    form.showServerError(page, new ApiError('VALIDATION_FAILED', 400, 'body.servicePhone'), fieldOf);
    assert.equal(page.data.errors.phone, messageForCode('VALIDATION_FAILED'));
    assert.equal(page.data.formError, '保存失败');
    form.showServerError(page, new ApiError('FORBIDDEN', 403), fieldOf);
    assert.equal(page.data.formError, messageForCode('FORBIDDEN'));
    form.showServerError(page, FAILED, fieldOf);
    assert.equal(page.data.formError, messageForCode(null));
  });
});

describe('the exceptions inbox tabs (view-models/admin-operations)', () => {
  let inboxQuery: any;

  before(async function () {
    this.timeout(120_000);
    ({ inboxQuery } = await builtModule('./view-models/admin-operations.js'));
  });

  it('asks for every kind on the 全部 tab without naming one, on the first page and the next alike', () => {
    assert.deepEqual(inboxQuery('all', 20), { kind: undefined, cursor: undefined, limit: 20 });
    assert.deepEqual(inboxQuery('all', 20, 'c1'), { kind: undefined, cursor: 'c1', limit: 20 });
    assert.deepEqual(inboxQuery('refund.failed', 20, 'c1'), {
      kind: 'refund.failed',
      cursor: 'c1',
      limit: 20,
    });
  });
});
