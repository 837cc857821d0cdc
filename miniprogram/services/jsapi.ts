/**
 * Promise wrappers over the callback-style `my.*` JSAPIs this mini-program uses. Callbacks rather than the
 * newer promise forms, because older base libraries only have callbacks. Nothing here interprets results:
 * that is api.ts (HTTP) and payment-results.ts (cashier and signing codes).
 */

/** A `fail` callback: `error` is the JSAPI error number (e.g. my.request 12 network, 13 timeout, 19 HTTP). */
export class JsapiFailure extends Error {
  override name = 'JsapiFailure';
  constructor(
    readonly api: string,
    readonly error: number,
    message: string,
    /** my.request error 19 carries the HTTP answer on recent base libraries. */
    readonly status?: number,
    readonly data?: unknown,
  ) {
    super(`my.${api} failed: ${error} ${message}`);
  }
}

interface FailArgument {
  error?: number;
  errorMessage?: string;
  status?: number;
  data?: unknown;
}

function failure(api: string, err: FailArgument | undefined): JsapiFailure {
  return new JsapiFailure(api, err?.error ?? -1, err?.errorMessage ?? '', err?.status, err?.data);
}

export interface HttpAnswer {
  status: number;
  data: unknown;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function httpRequest(options: {
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    my.request({
      url: options.url,
      method: options.method,
      headers: options.headers,
      data: options.body,
      // Text, parsed by api.ts: an empty or non-JSON body is then our decision, not a JSAPI error 14.
      dataType: 'text',
      timeout: options.timeoutMs,
      success: (answer) => resolve({ status: answer.status ?? answer.statusCode, data: answer.data }),
      fail: (err) => reject(failure('request', err as FailArgument)),
    });
  });
}

export function getAuthCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    my.getAuthCode({
      // auth_base: silent, no consent sheet; the server only needs the user id / open id (seed 000 §2.2.1).
      scopes: 'auth_base',
      success: (answer) => resolve(answer.authCode),
      fail: (err) => reject(failure('getAuthCode', err)),
    });
  });
}

/**
 * auth_user: Alipay shows a consent sheet; with consent the server may read the certified ID number and
 * mobile (alipay.user.info.share, special permission): to find the person's cards in the school's roster,
 * or to share the mobile a school asks payers it does not know for. Null when the person closed the sheet
 * or Alipay gave no code: the page then says what the consent was for.
 */
export function askUserAuthCode(): Promise<string | null> {
  return new Promise((resolve) => {
    my.getAuthCode({
      scopes: 'auth_user',
      success: (answer) => resolve(answer.authCode),
      fail: () => resolve(null),
    });
  });
}

/** Opens the Alipay cashier; resolves with its resultCode (9000, 8000, 4000, 6001, 6002, 6004, 99). */
export function tradePay(tradeNo: string): Promise<string> {
  return new Promise((resolve, reject) => {
    my.tradePay({
      tradeNO: tradeNo,
      success: (answer) => resolve(String(answer.resultCode)),
      fail: (err) => reject(failure('tradePay', err)),
    });
  });
}

/** Opens Alipay's agreement signing; resolves with resultStatus (7000, 7001, 7002, 6001, 6002) and result. */
export function paySignCenter(signStr: string): Promise<{ resultStatus: string; result: string }> {
  return new Promise((resolve, reject) => {
    my.paySignCenter({
      signStr,
      success: (answer) => resolve({ resultStatus: String(answer.resultStatus), result: answer.result }),
      fail: (err) => reject(failure('paySignCenter', err)),
    });
  });
}

/**
 * The system date picker; resolves with the chosen day ("2024-09-01"), rejects when the person closes it.
 * @see https://opendocs.alipay.com/mini/api/datepicker
 */
export function pickDate(current: string): Promise<string> {
  return new Promise((resolve, reject) => {
    my.datePicker({
      format: 'yyyy-MM-dd',
      ...(current ? { currentDate: current } : {}),
      success: (answer: { date: string }) => resolve(answer.date),
      fail: (err: FailArgument) => reject(failure('datePicker', err)),
    });
  });
}

/**
 * Asks the person to allow subscription messages of these templates (at most 3 per call); resolves with the
 * template ids they accepted (ALIPAY-M2.md §3). One-time templates: one message per acceptance.
 * @see https://opendocs.alipay.com/mini/api/requestsubscribemessage
 */
export function requestSubscribeMessage(templateIds: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    my.requestSubscribeMessage({
      entityIds: templateIds,
      success: (answer: Record<string, unknown>) =>
        resolve(templateIds.filter((id) => answer[id] === 'accept')),
      fail: (err: FailArgument) => reject(failure('requestSubscribeMessage', err)),
    });
  });
}

/**
 * Alipay's membership-card claim page for a claim link (领卡链接) card management gave the school; resolves
 * with what the page answered (`success`/`resultStatus` when the card was taken, `code` when not).
 * @see https://opendocs.alipay.com/mini/api/add-card-auth
 */
export function addCardAuth(
  url: string,
): Promise<{ success?: boolean; resultStatus?: string; code?: string }> {
  return new Promise((resolve, reject) => {
    my.addCardAuth({
      url,
      success: (answer) =>
        resolve({ success: answer.success, resultStatus: answer.resultStatus, code: answer.code }),
      fail: (err) =>
        err?.code ? resolve({ success: false, code: err.code }) : reject(failure('addCardAuth', err)),
    });
  });
}

/**
 * The user's card wallet (卡包) in Alipay.
 * @see https://opendocs.alipay.com/mini/api/qxxpsh
 */
export function openCardList(): Promise<void> {
  return new Promise((resolve, reject) => {
    my.ap.openCardList({
      success: () => resolve(),
      fail: (err) => reject(failure('openCardList', err)),
    });
  });
}

/** A two-button dialog; resolves true when the person confirms. */
export function confirm(options: {
  title: string;
  content: string;
  confirmButtonText: string;
  cancelButtonText?: string;
}): Promise<boolean> {
  return new Promise((resolve) => {
    my.confirm({
      title: options.title,
      content: options.content,
      confirmButtonText: options.confirmButtonText,
      cancelButtonText: options.cancelButtonText ?? '取消',
      success: (answer) => resolve(answer.confirm),
      fail: () => resolve(false),
    });
  });
}

export function toast(content: string, type: 'success' | 'fail' | 'none' = 'none'): void {
  my.showToast({ content, type, duration: 2000 });
}

/** A dialog with one button; resolves once it is closed. */
export function alert(options: { title: string; content: string; buttonText: string }): Promise<void> {
  return new Promise((resolve) => {
    my.alert({
      title: options.title,
      content: options.content,
      buttonText: options.buttonText,
      complete: () => resolve(),
    });
  });
}

/** Puts text on the clipboard (e.g. a link to open on a computer). */
export function setClipboard(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    my.setClipboard({
      text,
      success: () => resolve(),
      fail: (err) => reject(failure('setClipboard', err)),
    });
  });
}

export function stopPullDownRefresh(): void {
  my.stopPullDownRefresh();
}

/**
 * Opens another mini-program (errors 2 bad parameters, 30 the target refuses, 31 navigation failed).
 * @see https://opendocs.alipay.com/mini/api/yz6gnx
 */
export function navigateToMiniProgram(target: {
  appId: string;
  extraData: Record<string, string>;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    my.navigateToMiniProgram({
      appId: target.appId,
      extraData: target.extraData,
      success: () => resolve(),
      fail: (err) => reject(failure('navigateToMiniProgram', err)),
    });
  });
}

/**
 * Whether this Alipay client can pick a file from the disk (the PC and tablet clients; phones mostly
 * cannot): `my.chooseFileFromDisk` is not in every base library, so ask before offering it.
 */
export function canChooseFileFromDisk(): boolean {
  return typeof my.canIUse === 'function' && my.canIUse('chooseFileFromDisk');
}

/** Lets the person pick a file; resolves with its local path (apFilePath), rejects when they close it. */
export function chooseFileFromDisk(): Promise<string> {
  // Not declared by @mini-types (a client-specific JSAPI): called through a narrow local type.
  const picker = my as unknown as {
    chooseFileFromDisk(options: {
      success: (answer: { apFilePath?: string; tempFilePath?: string }) => void;
      fail: (err: FailArgument) => void;
    }): void;
  };
  return new Promise((resolve, reject) => {
    picker.chooseFileFromDisk({
      success: (answer) => {
        const filePath = answer.apFilePath ?? answer.tempFilePath;
        if (filePath) resolve(filePath);
        else reject(new JsapiFailure('chooseFileFromDisk', -1, 'no file'));
      },
      fail: (err) => reject(failure('chooseFileFromDisk', err)),
    });
  });
}

/**
 * my.uploadFile: a multipart POST of one local file (field `name`) with extra form fields. Resolves with the
 * HTTP answer like httpRequest; the body is the server's text.
 */
export function uploadFile(options: {
  url: string;
  filePath: string;
  name: string;
  fileName: string;
  headers: Record<string, string>;
  formData: Record<string, string>;
}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    my.uploadFile({
      url: options.url,
      filePath: options.filePath,
      name: options.name,
      fileName: options.fileName,
      // The JSAPI wants a type; for a document the client sends the file as it is.
      fileType: 'file',
      header: options.headers,
      formData: options.formData,
      success: (answer) => resolve({ status: answer.statusCode, data: answer.data }),
      fail: (err) => reject(failure('uploadFile', err as FailArgument)),
    });
  });
}
