// A Stryker ignorer (issue 20): mutants inside log calls (`deps.logger.warn('…', {…})`) change what an operator
// reads, not where money goes, so they are left out of the score, as the issue allows. Nothing else is
// ignored here; equivalent mutants are marked in the code with a reason.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

function isLoggerObject(node) {
  if (node.type === 'Identifier') return node.name === 'logger';
  return node.type === 'MemberExpression' && !node.computed && node.property.name === 'logger';
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'log-text', {
    shouldIgnore(path) {
      const { node } = path;
      if (
        node.type === 'CallExpression' &&
        node.callee.type === 'MemberExpression' &&
        !node.callee.computed &&
        LEVELS.has(node.callee.property.name) &&
        isLoggerObject(node.callee.object)
      )
        return 'log text: read by operators, decides no money';
      return undefined;
    },
  }),
];
