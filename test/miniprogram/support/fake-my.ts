/**
 * The Alipay app runtime's `my` object, for Node. It is the only fake in the mini-program tests:
 * - my.request is real HTTP (fetch) to the real BFF, with the JSAPI's callback shapes and fail codes
 *   (ALIPAY.md §5: 12 network, 13 timeout, 14 parse, 19 HTTP status with the answer attached);
 * - storage is an in-memory map with the sync API's shapes;
 * - dialogs and toasts are recorded, and confirm is answered by `answerConfirm` (default: confirm); the
 *   clipboard is a field;
 * - navigation is recorded and handed to the runtime, which opens the target page like the real one;
 * - my.uploadFile is real multipart HTTP too, reading `filePath` from this machine's disk; my.chooseFileFromDisk
 *   is pluggable (the test picks the file) and my.canIUse answers for the APIs faked here;
 * - getAuthCode / tradePay / paySignCenter / addCardAuth are pluggable: the journey tests plug in the
 *   sandboxes' control APIs, standing in for the person tapping in the Alipay app; navigateToMiniProgram is
 *   recorded (the other mini-program is Alipay's, not ours), and so is my.ap.openCardList.
 * Any other `my.*` a page calls throws, so an API used without a fake cannot go unnoticed.
 */

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface JsapiError {
  error: number;
  errorMessage: string;
}

/** Thrown by a pluggable to make the JSAPI call its `fail` callback. */
export class JsapiFail extends Error {
  constructor(
    readonly error: number,
    readonly errorMessage: string,
  ) {
    super(`${error} ${errorMessage}`);
  }
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  status?: number;
  /** The JSAPI error number when `fail` was called. */
  failedWith?: number;
}

export type NavigationKind = 'navigateTo' | 'redirectTo' | 'reLaunch' | 'navigateBack';

export interface FakeMyPlugs {
  getAuthCode?: (scopes: string | string[]) => Promise<{ authCode: string }>;
  tradePay?: (tradeNO: string) => Promise<{ resultCode: string }>;
  paySignCenter?: (signStr: string) => Promise<{ resultStatus: string; result: string }>;
  /** The person's answer to my.requestSubscribeMessage: `{ [templateId]: 'accept' | 'reject', … }`. */
  requestSubscribeMessage?: (templateIds: string[]) => Promise<Record<string, unknown>>;
  /** The day the person picks in my.datePicker ("2024-09-01"); throwing JsapiFail means they closed it. */
  datePicker?: (current: string | undefined) => Promise<{ date: string }>;
  /** Alipay's membership-card claim page for a claim link. */
  addCardAuth?: (url: string) => Promise<{ success: boolean; resultStatus?: string; code?: string }>;
  /** The person's answer to my.confirm. */
  answerConfirm?: (dialog: { title?: string; content?: string }) => boolean;
  /** The file the person picks in my.chooseFileFromDisk (a path on this machine); unset: the client has no picker. */
  chooseFileFromDisk?: () => Promise<{ apFilePath: string }>;
  /** Opening another mini-program; default: it opens. */
  navigateToMiniProgram?: (target: { appId: string; extraData?: unknown }) => Promise<unknown>;
}

type Callbacks = {
  success?: (value: any) => void;
  fail?: (error: any) => void;
  complete?: (value: any) => void;
};

function settle(options: Callbacks, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) {
  // The real runtime calls back asynchronously; so do we, so that no page relies on a synchronous answer.
  setImmediate(() => {
    if (outcome.ok) options.success?.(outcome.value);
    else options.fail?.(outcome.error);
    options.complete?.(outcome.ok ? outcome.value : outcome.error);
  });
}

function asJsapiError(error: unknown): JsapiError {
  if (error instanceof JsapiFail) return { error: error.error, errorMessage: error.errorMessage };
  return { error: 3, errorMessage: error instanceof Error ? error.message : String(error) };
}

export class FakeMy {
  readonly storage = new Map<string, unknown>();
  readonly requests: RecordedRequest[] = [];
  readonly toasts: Array<{ content: string; type?: string }> = [];
  readonly dialogs: Array<{ api: 'confirm' | 'alert'; title?: string; content?: string; answer: boolean }> =
    [];
  readonly navigations: Array<{ kind: NavigationKind; url?: string; delta?: number }> = [];
  /** Other mini-programs opened with my.navigateToMiniProgram. */
  readonly miniPrograms: Array<{ appId: string; extraData?: unknown; path?: string }> = [];
  readonly calls: string[] = [];
  /** What my.setClipboard put there. */
  clipboard: string | null = null;
  pullDownRefreshStops = 0;
  /** How many requests are in flight: lets a test wait until a page went quiet. */
  inFlight = 0;

  /** The runtime's navigation handler. */
  onNavigate: (kind: NavigationKind, options: { url?: string; delta?: number }) => void = () => undefined;

  readonly api: Record<string, any>;

  constructor(readonly plugs: FakeMyPlugs = {}) {
    const api: Record<string, any> = {
      request: (options: any) => {
        this.request(options);
      },
      getStorageSync: ({ key }: { key: string }) => {
        return { data: this.storage.has(key) ? structuredClone(this.storage.get(key)) : null };
      },
      setStorageSync: ({ key, data }: { key: string; data: unknown }) => {
        this.storage.set(key, structuredClone(data));
        return { success: true };
      },
      removeStorageSync: ({ key }: { key: string }) => {
        this.storage.delete(key);
        return { success: true };
      },
      showToast: (options: { content: string; type?: string }) => {
        this.toasts.push({ content: options.content, type: options.type });
      },
      showLoading: () => {},
      hideLoading: () => {},
      confirm: (options: Callbacks & { title?: string; content?: string }) => {
        const answer = this.plugs.answerConfirm ? this.plugs.answerConfirm(options) : true;
        this.dialogs.push({ api: 'confirm', title: options.title, content: options.content, answer });
        settle(options, { ok: true, value: { confirm: answer } });
      },
      alert: (options: Callbacks & { title?: string; content?: string }) => {
        this.dialogs.push({ api: 'alert', title: options.title, content: options.content, answer: true });
        settle(options, { ok: true, value: {} });
      },
      setClipboard: (options: Callbacks & { text: string }) => {
        this.calls.push('setClipboard');
        this.clipboard = options.text;
        settle(options, { ok: true, value: { success: true } });
      },
      stopPullDownRefresh: () => {
        this.pullDownRefreshStops += 1;
      },
      navigateTo: (options: { url: string }) => {
        this.navigate('navigateTo', options);
      },
      redirectTo: (options: { url: string }) => {
        this.navigate('redirectTo', options);
      },
      reLaunch: (options: { url: string }) => {
        this.navigate('reLaunch', options);
      },
      navigateBack: (options: { delta?: number } = {}) => {
        this.navigate('navigateBack', options);
      },
      getAuthCode: (options: Callbacks & { scopes?: string | string[] }) => {
        this.plug(options, 'getAuthCode', () => this.plugs.getAuthCode?.(options.scopes ?? 'auth_base'));
      },
      tradePay: (options: Callbacks & { tradeNO: string }) => {
        this.plug(options, 'tradePay', () => this.plugs.tradePay?.(options.tradeNO));
      },
      paySignCenter: (options: Callbacks & { signStr: string }) => {
        this.plug(options, 'paySignCenter', () => this.plugs.paySignCenter?.(options.signStr));
      },
      requestSubscribeMessage: (options: Callbacks & { entityIds: string[] }) => {
        this.plug(options, 'requestSubscribeMessage', () =>
          this.plugs.requestSubscribeMessage?.(options.entityIds),
        );
      },
      datePicker: (options: Callbacks & { currentDate?: string }) => {
        this.plug(options, 'datePicker', () => this.plugs.datePicker?.(options.currentDate));
      },
      canIUse: (name: string) => {
        // A client without a file picker (a phone) has no my.chooseFileFromDisk.
        if (name === 'chooseFileFromDisk') return !!this.plugs.chooseFileFromDisk;
        return name in api;
      },
      chooseFileFromDisk: (options: Callbacks) => {
        this.plug(options, 'chooseFileFromDisk', () => this.plugs.chooseFileFromDisk?.());
      },
      uploadFile: (options: any) => {
        this.uploadFile(options);
      },
      navigateToMiniProgram: (options: Callbacks & { appId: string; extraData?: unknown; path?: string }) => {
        this.plug(options, 'navigateToMiniProgram', () => {
          const target = { appId: options.appId, extraData: options.extraData, path: options.path };
          if (this.plugs.navigateToMiniProgram) return this.plugs.navigateToMiniProgram(target);
          this.miniPrograms.push(target);
          return Promise.resolve({});
        });
      },
      addCardAuth: (options: Callbacks & { url: string }) => {
        this.plug(options, 'addCardAuth', () => this.plugs.addCardAuth?.(options.url));
      },
      ap: {
        openCardList: (options: Callbacks = {}) => {
          this.calls.push('ap.openCardList');
          settle(options, { ok: true, value: {} });
        },
      },
    };
    this.api = new Proxy(api, {
      get(target, name) {
        if (typeof name === 'string' && !(name in target)) {
          throw new Error(`my.${name} is not faked by test/miniprogram/support/fake-my.ts`);
        }
        return target[name as string];
      },
    });
  }

  private navigate(kind: NavigationKind, options: { url?: string; delta?: number }) {
    this.calls.push(kind);
    this.navigations.push({ kind, ...options });
    this.onNavigate(kind, options);
  }

  private plug(options: Callbacks, name: string, run: () => Promise<unknown> | undefined) {
    this.calls.push(name);
    let pending: Promise<unknown> | undefined;
    try {
      pending = run();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (!pending) {
      settle(options, { ok: false, error: { error: 4, errorMessage: `my.${name} has no fake plugged in` } });
      return;
    }
    pending.then(
      (value) => settle(options, { ok: true, value }),
      (error) => settle(options, { ok: false, error: asJsapiError(error) }),
    );
  }

  private uploadFile(
    options: Callbacks & {
      url: string;
      filePath: string;
      name: string;
      fileName?: string;
      header?: Record<string, string>;
      headers?: Record<string, string>;
      formData?: Record<string, unknown>;
    },
  ) {
    this.calls.push('uploadFile');
    const headers = { ...(options.header ?? {}), ...(options.headers ?? {}) };
    const record: RecordedRequest = { method: 'POST', url: options.url, headers, body: undefined };
    this.requests.push(record);
    this.inFlight += 1;
    readFile(options.filePath)
      .then((bytes) => {
        const form = new FormData();
        for (const [key, value] of Object.entries(options.formData ?? {})) form.append(key, String(value));
        form.append(options.name, new Blob([bytes]), options.fileName ?? basename(options.filePath));
        return fetch(options.url, { method: 'POST', headers, body: form });
      })
      .then(async (response) => {
        record.status = response.status;
        const header = Object.fromEntries(response.headers.entries());
        // The JSAPI calls success for any HTTP answer; the page's code judges the status.
        settle(options, {
          ok: true,
          value: { data: await response.text(), statusCode: response.status, header },
        });
      })
      .catch(() => {
        record.failedWith = 12;
        settle(options, { ok: false, error: { error: 12, errorMessage: 'upload failed' } });
      })
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  private request(
    options: Callbacks & {
      url: string;
      method?: string;
      headers?: Record<string, string>;
      header?: Record<string, string>;
      data?: unknown;
      dataType?: string;
      timeout?: number;
    },
  ) {
    this.calls.push('request');
    const method = (options.method ?? 'GET').toUpperCase();
    const headers = {
      'content-type': 'application/json',
      ...(options.header ?? {}),
      ...(options.headers ?? {}),
    };
    let url = options.url;
    let body: string | undefined;
    if (options.data !== undefined && options.data !== null) {
      if (method === 'GET' && typeof options.data === 'object') {
        // The JSAPI turns GET data into a query string.
        const query = new URLSearchParams(options.data as Record<string, string>).toString();
        url += (url.includes('?') ? '&' : '?') + query;
      } else {
        body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
      }
    }
    const record: RecordedRequest = { method, url, headers, body };
    this.requests.push(record);
    const fail = (error: number, errorMessage: string, extra: object = {}) => {
      record.failedWith = error;
      settle(options, { ok: false, error: { error, errorMessage, ...extra } });
    };
    if (!/^https?:\/\//.test(url)) return fail(2, 'invalid url');
    this.inFlight += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeout ?? 30_000);
    fetch(url, { method, headers, body, signal: controller.signal })
      .then(async (response) => {
        const text = await response.text();
        record.status = response.status;
        let data: unknown = text;
        if ((options.dataType ?? 'json') === 'json' && text !== '') {
          try {
            data = JSON.parse(text);
          } catch {
            return fail(14, 'JSON parse data error');
          }
        }
        const responseHeaders = Object.fromEntries(response.headers.entries());
        const answer = { data, status: response.status, headers: responseHeaders };
        if (response.status >= 200 && response.status < 300) {
          settle(options, {
            ok: true,
            value: { ...answer, statusCode: response.status, header: responseHeaders },
          });
        } else {
          fail(19, 'http status error', answer);
        }
      })
      .catch(() => (controller.signal.aborted ? fail(13, 'timeout') : fail(12, 'network error')))
      .finally(() => {
        clearTimeout(timer);
        this.inFlight -= 1;
      });
  }
}
