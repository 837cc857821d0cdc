// Root hooks for the whole mocha run. The embedded PostgreSQL is started lazily by test/support/db.ts.
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';

export const mochaHooks = {};
