/**
 * A small Alipay mini-program runtime for Node, over the *built* mini-program (dist layout, CommonJS):
 * fake `Page` / `App` / `Component` / `getApp` / `getCurrentPages` globals capture what the compiled modules
 * register; a page is instantiated like the real runtime does it (its own copy of `data`, the options'
 * methods and fields on the instance, `setData` merging into `data` with 'a.b' / 'a[0].b' paths, then
 * onLoad(query) → onShow → onReady); navigation through `my` opens, replaces or pops pages on a stack.
 *
 * Handlers are invoked through `PageHandle.call`, which refuses a handler the page's AXML does not bind —
 * a test can only do what a person can do on screen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeConfigModule } from '../../../scripts/build-miniprogram.js';
import { templateUse } from './axml.js';
import { freshRequire } from './build.js';
import { FakeMy, type FakeMyPlugs, type NavigationKind } from './fake-my.js';

export interface PageInstance {
  route: string;
  data: Record<string, any>;
  setData(patch: Record<string, unknown>, callback?: () => void): void;
  [key: string]: any;
}

/** 'a.b[0].c' → ['a', 'b', 0, 'c'] */
function pathSegments(key: string): Array<string | number> {
  const segments: Array<string | number> = [];
  for (const match of key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  }
  return segments;
}

/** The runtime's setData: each key is a path into `data`; values are copied (they cross to the renderer). */
export function applySetData(data: Record<string, any>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    if (typeof value === 'function') throw new Error(`setData('${key}') got a function; data must be plain`);
    const segments = pathSegments(key);
    let target: any = data;
    for (let i = 0; i < segments.length - 1; i += 1) {
      const segment = segments[i];
      if (target[segment] === null || typeof target[segment] !== 'object') {
        target[segment] = typeof segments[i + 1] === 'number' ? [] : {};
      }
      target = target[segment];
    }
    target[segments[segments.length - 1]] = value === undefined ? undefined : structuredClone(value);
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  message?: string;
}

/** Waits on a condition with a deadline (no fixed sleeps): checks on every turn of the event loop. */
export async function waitUntil<T>(
  check: () => T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${options.message ?? 'condition never held'}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function parseUrl(url: string): { route: string; query: Record<string, string> } {
  const [pathPart, queryPart = ''] = url.split('?');
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(queryPart)) query[key] = value;
  return { route: pathPart.replace(/^\//, ''), query };
}

export class PageHandle {
  constructor(
    readonly runtime: MiniRuntime,
    readonly instance: PageInstance,
    readonly query: Record<string, string>,
  ) {}

  get route(): string {
    return this.instance.route;
  }

  get data(): Record<string, any> {
    return this.instance.data;
  }

  /** Calls a handler the page's AXML binds (onTap="x", onChange="x", …) and waits for it to finish. */
  async call(handler: string, ...args: unknown[]): Promise<unknown> {
    const bound = this.runtime.boundHandlers(this.route);
    if (!bound.has(handler)) {
      throw new Error(`${this.route}.axml binds no event to ${handler} (bound: ${[...bound].join(', ')})`);
    }
    return this.invoke(handler, ...args);
  }

  /** A tap on an element with these data-* attributes. */
  tap(handler: string, dataset: Record<string, unknown> = {}): Promise<unknown> {
    return this.call(handler, { type: 'tap', currentTarget: { dataset }, target: { dataset } });
  }

  /** Typing into an antd-mini Input: its onChange gets (value, event). */
  input(handler: string, value: string): Promise<unknown> {
    return this.call(handler, value, { detail: { value } });
  }

  /** Page lifecycle hooks the runtime itself calls (onPullDownRefresh, onReachBottom, …). */
  lifecycle(hook: string, ...args: unknown[]): Promise<unknown> {
    return this.invoke(hook, ...args);
  }

  private async invoke(name: string, ...args: unknown[]): Promise<unknown> {
    const method = this.instance[name];
    if (typeof method !== 'function') throw new Error(`${this.route} has no method ${name}`);
    return method.apply(this.instance, args);
  }

  waitFor(
    check: (data: Record<string, any>) => boolean,
    options: WaitOptions = {},
  ): Promise<Record<string, any>> {
    return waitUntil(() => check(this.data) && this.data, {
      timeoutMs: options.timeoutMs,
      message: `${options.message ?? 'page condition'} on ${this.route}: ${JSON.stringify(this.data)}`,
    });
  }
}

export interface RuntimeOptions extends FakeMyPlugs {
  buildDir: string;
  /** Rewrites the build's services/config.js so the pages talk to this BFF. */
  bffUrl: string;
}

const GLOBALS = ['my', 'Page', 'App', 'Component', 'getApp', 'getCurrentPages'] as const;

export class MiniRuntime {
  readonly my: FakeMy;
  readonly stack: PageHandle[] = [];
  /** Failures of lifecycle hooks the runtime called (the real runtime would only log them). */
  readonly errors: unknown[] = [];
  private readonly require: NodeJS.Require;
  private readonly pageOptions = new Map<string, Record<string, any>>();
  private readonly handlers = new Map<string, Set<string>>();
  private registering: string | null = null;
  private appInstance: Record<string, any> | null = null;
  private readonly savedGlobals = new Map<string, unknown>();
  private readonly builtConfig: string;
  private closed = false;

  constructor(readonly options: RuntimeOptions) {
    this.my = new FakeMy(options);
    this.my.onNavigate = (kind, navigation) => this.navigate(kind, navigation);
    // The shared build's config module is put back on close, so that what the build wrote stays true for
    // tests that read it (build.test.ts), whichever test file runs first.
    this.builtConfig = fs.readFileSync(path.join(options.buildDir, 'services', 'config.js'), 'utf8');
    writeConfigModule(options.buildDir, options.bffUrl);
    // Fresh module state per runtime (the session's login-in-flight, …), like a fresh app launch.
    this.require = freshRequire(options.buildDir);
    this.installGlobals();
    this.require('./app.js');
    this.appInstance?.onLaunch?.({ query: {}, path: 'pages/index/index' });
  }

  private installGlobals(): void {
    const scope = globalThis as Record<string, unknown>;
    for (const name of GLOBALS) this.savedGlobals.set(name, scope[name]);
    scope.my = this.my.api;
    scope.App = (options: Record<string, any>) => {
      this.appInstance = { ...options };
    };
    scope.getApp = () => this.appInstance;
    scope.getCurrentPages = () => this.stack.map((page) => page.instance);
    scope.Component = () => undefined;
    scope.Page = (options: Record<string, any>) => {
      if (!this.registering) throw new Error('Page() called outside of a page module');
      this.pageOptions.set(this.registering, options);
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Puts the process's globals back; call in afterEach. */
  close(): void {
    this.closed = true;
    for (const page of this.stack.splice(0)) this.callHook(page, 'onUnload');
    const scope = globalThis as Record<string, unknown>;
    for (const [name, value] of this.savedGlobals) {
      if (value === undefined) delete scope[name];
      else scope[name] = value;
    }
    fs.writeFileSync(path.join(this.options.buildDir, 'services', 'config.js'), this.builtConfig);
  }

  private optionsOf(route: string): Record<string, any> {
    let options = this.pageOptions.get(route);
    if (!options) {
      const appJson = JSON.parse(fs.readFileSync(path.join(this.options.buildDir, 'app.json'), 'utf8'));
      if (!appJson.pages.includes(route)) throw new Error(`${route} is not a page of app.json`);
      this.registering = route;
      try {
        this.require(`./${route}.js`);
      } finally {
        this.registering = null;
      }
      options = this.pageOptions.get(route);
      if (!options) throw new Error(`${route}.js did not call Page()`);
    }
    return options;
  }

  boundHandlers(route: string): Set<string> {
    let bound = this.handlers.get(route);
    if (!bound) {
      const axml = fs.readFileSync(path.join(this.options.buildDir, `${route}.axml`), 'utf8');
      bound = new Set(templateUse(axml).handlers.map((handler) => handler.name));
      this.handlers.set(route, bound);
    }
    return bound;
  }

  private instantiate(route: string, query: Record<string, string>): PageHandle {
    const options = this.optionsOf(route);
    const instance: PageInstance = {
      route,
      data: {},
      setData(patch, callback) {
        applySetData(this.data, patch);
        callback?.();
      },
    };
    for (const [key, value] of Object.entries(options)) {
      if (key === 'data') continue;
      instance[key] = typeof value === 'function' ? value : structuredClone(value);
    }
    const initial = typeof options.data === 'function' ? options.data() : options.data;
    instance.data = structuredClone(initial ?? {});
    return new PageHandle(this, instance, query);
  }

  /** Calls a lifecycle hook as the runtime does: not awaited, failures collected in `errors`. */
  private callHook(page: PageHandle, hook: string, ...args: unknown[]): void {
    const method = page.instance[hook];
    if (typeof method !== 'function') return;
    try {
      const result = method.apply(page.instance, args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).catch((error) => this.errors.push(error));
      }
    } catch (error) {
      this.errors.push(error);
    }
  }

  private show(url: string): PageHandle {
    const { route, query } = parseUrl(url);
    const page = this.instantiate(route, query);
    this.stack.push(page);
    this.callHook(page, 'onLoad', query);
    this.callHook(page, 'onShow');
    this.callHook(page, 'onReady');
    return page;
  }

  /** Launches the mini-program on a page, as scanning a QR code or tapping the app would. */
  launch(url = '/pages/index/index'): PageHandle {
    for (const page of this.stack.splice(0)) this.callHook(page, 'onUnload');
    return this.show(url);
  }

  current(): PageHandle {
    const page = this.stack[this.stack.length - 1];
    if (!page) throw new Error('no page is open');
    return page;
  }

  /** Waits until the page on top is `route` (navigation happens a tick after the call, as in the app). */
  waitForPage(route: string, options: WaitOptions = {}): Promise<PageHandle> {
    const wanted = route.replace(/^\//, '');
    return waitUntil(() => this.stack.length > 0 && this.current().route === wanted && this.current(), {
      timeoutMs: options.timeoutMs,
      message: `${options.message ?? 'page'} ${wanted}; stack: ${this.stack.map((page) => page.route).join(' > ')}`,
    });
  }

  private navigate(kind: NavigationKind, options: { url?: string; delta?: number }): void {
    // The app switches pages after the current handler returns; so does this runtime.
    setImmediate(() => {
      if (kind === 'navigateBack') {
        const delta = Math.max(1, options.delta ?? 1);
        for (let i = 0; i < delta && this.stack.length > 1; i += 1)
          this.callHook(this.stack.pop()!, 'onUnload');
        this.callHook(this.current(), 'onShow');
        return;
      }
      const url = options.url ?? '';
      if (kind === 'navigateTo') {
        if (this.stack.length) this.callHook(this.current(), 'onHide');
      } else if (kind === 'redirectTo') {
        if (this.stack.length) this.callHook(this.stack.pop()!, 'onUnload');
      } else {
        for (const page of this.stack.splice(0)) this.callHook(page, 'onUnload');
      }
      this.show(url);
    });
  }
}
