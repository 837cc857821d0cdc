// Imported first by scripts/operator.ts (ES imports are hoisted): the process-wide logger reads LOG_LEVEL when
// it loads, and the person at the terminal wants results, not the card-system client's warnings about an
// expected "no such card" while a connection is tested. LOG_LEVEL still wins when set.
process.env.LOG_LEVEL ??= 'error';
