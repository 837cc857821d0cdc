import Joi from 'joi';
import type { AdminOrderKind } from '../../../../shared/admin-api.js';
import type { Deps } from '../../deps.js';
import { maskingFor } from '../../domain/orders/masking.js';
import { orderDetail, searchOrders } from '../../domain/orders/orders.js';
import { validate } from '../../http/validate.js';
import { cardNo, uuid } from '../miniapp/schemas.js';
import type { SchoolAdminRouter } from './school-admin-router.js';

const KINDS: AdminOrderKind[] = ['RECHARGE', 'DEDUCTION', 'REPAYMENT', 'REFUND'];
const orderNo = Joi.string()
  .trim()
  .pattern(/^[A-Za-z0-9_]{1,64}$/, 'order number');
const date = Joi.date().iso().min('1970-01-01').max('9999-12-31');

const searchQuery = Joi.object({
  kind: Joi.string()
    .valid(...KINDS)
    .default('DEDUCTION'),
  cardNo,
  orderNo,
  txnNo: Joi.string().trim().min(1).max(64),
  status: Joi.string()
    .trim()
    .pattern(/^[A-Z_]{2,32}$/, 'status'),
  from: date,
  to: date.greater(Joi.ref('from')),
  cursor: Joi.string().max(200),
  limit: Joi.number().integer().min(1).max(50).default(20),
});
const detailParams = Joi.object({
  schoolId: Joi.string(),
  kind: Joi.string()
    .valid(...KINDS)
    .required(),
  id: uuid.required(),
});

/** Orders search and one order's timeline; card numbers and names masked for viewers (issue 13). */
export function ordersRoutes(school: SchoolAdminRouter, deps: Deps): void {
  school.get('/orders', 'VIEWER', async (ctx) => {
    const query = validate(searchQuery, ctx.query, 'query');
    const { schoolId, role } = ctx.state.admin;
    ctx.body = await searchOrders(deps, schoolId, query, maskingFor(role));
  });

  school.get('/orders/:kind/:id', 'VIEWER', async (ctx) => {
    const { kind, id } = validate(detailParams, ctx.params, 'params');
    const { schoolId, role } = ctx.state.admin;
    ctx.body = await orderDetail(deps, schoolId, kind, id, maskingFor(role));
  });
}
