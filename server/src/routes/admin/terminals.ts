import Joi from 'joi';
import type {
  CreatedTerminal,
  TerminalInput,
  TerminalExceptionSummary,
  TerminalMoneyModeInput,
  TerminalOrdersResponse,
  TerminalStatusRequest,
  TerminalsResponse,
  TerminalView,
  UpdateTerminalRequest,
} from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import {
  createTerminal,
  editTerminal,
  schoolTerminal,
  schoolTerminals,
  setTerminalMoneyMode,
  setTerminalStatus,
} from '../../domain/terminals/terminals.js';
import {
  schoolTerminalExceptions,
  schoolTerminalOrders,
  terminalExceptionSummary,
  TERMINAL_EXCEPTION_KINDS,
} from '../../domain/terminals/admin-orders.js';
import { validate } from '../../http/validate.js';
import { uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const account = Joi.string().pattern(/^2088\d{12}$/, 'Alipay account (2088 + 12 digits)');
const moneyMode = {
  moneyMode: Joi.string().valid('PLAIN', 'RESTRICTED', 'ROYALTY').required(),
  sellerId: account.when('moneyMode', { is: 'RESTRICTED', then: Joi.required(), otherwise: Joi.forbidden() }),
  royalty: Joi.object({
    account: account.required(),
    bps: Joi.number().integer().strict().min(1).max(10_000),
    fixedFen: Joi.number().integer().strict().min(1).max(2_147_483_647),
    timing: Joi.string().valid('ON_PAYMENT', 'AFTER_DISPENSE').required(),
  })
    .xor('bps', 'fixedFen')
    .when('moneyMode', { is: 'ROYALTY', then: Joi.required(), otherwise: Joi.forbidden() }),
};
const editable = {
  kind: Joi.string().valid('VENDING', 'CASHIER'),
  name: Joi.string().trim().min(1).max(40),
  location: Joi.string().trim().max(80).allow(null),
  operatorName: Joi.string().trim().max(40).allow(null),
  callbackUrl: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .max(500)
    .allow(null),
  orderTimeoutSeconds: Joi.number().integer().strict().min(30).max(86_400),
};
/** Also the operator command's check (scripts/operator/commands/terminal.ts). */
export const createTerminalBody = Joi.object<TerminalInput>({
  terminalId: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,32}$/, 'terminal id (1–32 of A-Z a-z 0-9 _ -)')
    .required(),
  ...editable,
  kind: editable.kind.required(),
  name: editable.name.required(),
  ...moneyMode,
});
const editBody = Joi.object<UpdateTerminalRequest>(editable).min(1);
const moneyModeBody = Joi.object<TerminalMoneyModeInput>(moneyMode);
const statusBody = Joi.object<TerminalStatusRequest>({
  status: Joi.string().valid('ACTIVE', 'DISABLED').required(),
});
const terminalParams = Joi.object({ schoolId: Joi.string(), id: uuid.required() });
const ordersQuery = Joi.object({
  status: Joi.string().valid('CREATED', 'PAID', 'CLOSED'),
  terminalId: uuid,
  before: Joi.date().iso(),
  limit: Joi.number().integer().min(1).max(50).default(20),
});
const exceptionsQuery = Joi.object({
  kind: Joi.string()
    .valid(...TERMINAL_EXCEPTION_KINDS)
    .required(),
  before: Joi.date().iso(),
  limit: Joi.number().integer().min(1).max(50).default(20),
});

/**
 * The terminals page (issue #15): every admin sees the school's vending machines and windows; staff add,
 * edit, disable and enable them; where the money goes (plain, restricted collection, profit sharing) is the
 * owners' decision. Every change is audited by the domain.
 */
export function terminalAdminRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/terminals', 'VIEWER', async (ctx) => {
    ctx.body = { items: await schoolTerminals(deps, ctx.state.admin.schoolId) } satisfies TerminalsResponse;
  });

  school.get('/terminals/:id', 'VIEWER', async (ctx) => {
    const { id } = validate(terminalParams, ctx.params, 'params');
    ctx.body = (await schoolTerminal(deps, ctx.state.admin.schoolId, id)) satisfies TerminalView;
  });

  school.post('/terminals', 'OWNER', async (ctx) => {
    const body = validate(createTerminalBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    ctx.status = 201;
    ctx.body = (await createTerminal(deps, actor, schoolId, body)) satisfies CreatedTerminal;
  });

  school.put('/terminals/:id', 'STAFF', async (ctx) => {
    const { id } = validate(terminalParams, ctx.params, 'params');
    const body = validate(editBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    ctx.body = (await editTerminal(deps, actor, schoolId, id, body)) satisfies TerminalView;
  });

  school.put('/terminals/:id/money-mode', 'OWNER', async (ctx) => {
    const { id } = validate(terminalParams, ctx.params, 'params');
    const body = validate(moneyModeBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    ctx.body = (await setTerminalMoneyMode(deps, actor, schoolId, id, body)) satisfies TerminalView;
  });

  school.put('/terminals/:id/status', 'STAFF', async (ctx) => {
    const { id } = validate(terminalParams, ctx.params, 'params');
    const { status } = validate(statusBody, ctx.request.body, 'body');
    const { schoolId, actor } = ctx.state.admin;
    ctx.body = (await setTerminalStatus(deps, actor, schoolId, id, status)) satisfies TerminalView;
  });

  school.get('/terminal-orders', 'VIEWER', async (ctx) => {
    const { status, terminalId, before, limit } = validate(ordersQuery, ctx.query, 'query');
    ctx.body = (await schoolTerminalOrders(deps, ctx.state.admin.schoolId, {
      status,
      terminalRef: terminalId,
      before: before?.toISOString(),
      limit,
    })) satisfies TerminalOrdersResponse;
  });

  school.get('/terminal-orders/exceptions', 'VIEWER', async (ctx) => {
    const { kind, before, limit } = validate(exceptionsQuery, ctx.query, 'query');
    ctx.body = (await schoolTerminalExceptions(deps, ctx.state.admin.schoolId, kind, {
      before: before?.toISOString(),
      limit,
    })) satisfies TerminalOrdersResponse;
  });

  school.get('/terminal-orders/summary', 'VIEWER', async (ctx) => {
    ctx.body = (await terminalExceptionSummary(
      deps,
      ctx.state.admin.schoolId,
    )) satisfies TerminalExceptionSummary;
  });
}
