// The Alipay JS runtime has timers, but @mini-types/alipay does not declare them and this project has
// no DOM lib (the mini-program is not a browser).
declare function setTimeout(handler: () => void, timeoutMs?: number): number;
declare function clearTimeout(id: number | undefined): void;
