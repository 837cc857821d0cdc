// Imported first by the root hooks: ES imports are hoisted, so settings that modules read when they load
// (the process-wide logger's level, the time zone alipay-sdk stamps requests with) must be set in a module
// of their own that runs before the others.
process.env.TZ = 'Asia/Shanghai';
process.env.LOG_LEVEL ??= 'error';
