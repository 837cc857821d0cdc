// The Alipay JS runtime has timers, but @mini-types/alipay does not declare them and this project has
// no DOM lib (the mini-program is not a browser).
declare function setTimeout(handler: () => void, timeoutMs?: number): number;
declare function clearTimeout(id: number | undefined): void;

// my.addCardAuth (open Alipay's membership-card claim page for a claim link) is not in @mini-types/alipay.
// @see https://opendocs.alipay.com/mini/api/add-card-auth
declare namespace my {
  function addCardAuth(object: {
    url: string;
    success?(answer: { success?: boolean; resultStatus?: string; code?: string; result?: unknown }): void;
    fail?(err: { error?: number; errorMessage?: string; code?: string }): void;
  }): void;
}
