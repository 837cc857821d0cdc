// A Stryker ignorer (issue 20): mutants inside log calls (`deps.logger.warn('…', {…})`) change what an operator
// reads, not where money goes, so they are left out of the score, as the issue allows; so is a block whose only
// statements are log calls (a catch that only logs: emptied, it only stops the log line). Nothing else is
// ignored here; equivalent mutants are marked in the code with a reason.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

function isLoggerObject(node) {
  if (node.type === 'Identifier') return node.name === 'logger';
  return node.type === 'MemberExpression' && !node.computed && node.property.name === 'logger';
}

function isLogCall(node) {
  return (
    node.type === 'CallExpression' &&
    node.callee.type === 'MemberExpression' &&
    !node.callee.computed &&
    LEVELS.has(node.callee.property.name) &&
    isLoggerObject(node.callee.object)
  );
}

function onlyLogs(block) {
  return (
    block.body.length > 0 &&
    block.body.every(
      (statement) => statement.type === 'ExpressionStatement' && isLogCall(statement.expression),
    )
  );
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'log-text', {
    shouldIgnore(path) {
      const { node } = path;
      if (isLogCall(node)) return 'log text: read by operators, decides no money';
      if (node.type === 'BlockStatement' && onlyLogs(node)) return 'log text: the block only logs';
      return undefined;
    },
  }),
];
