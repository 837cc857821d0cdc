import type Router from '@koa/router';
import Joi from 'joi';
import type { CampusCodeUpload } from '../../../../shared/gateway-api.js';
import type { Deps } from '../../deps.js';
import { campusCodePaymentDetail } from '../../domain/campus-code/payment-detail.js';
import { uploadCampusCodePayments } from '../../domain/campus-code/uploads.js';
import { spendNonce, type GatewayState } from '../../http/gateway-auth.js';
import { validate } from '../../http/validate.js';

export const MAX_UPLOAD_BATCH = 500;

const txnNo = Joi.string().pattern(/^[A-Za-z0-9_-]{1,64}$/, 'txnNo');
// Standard padded base64 as a pattern: joi's own base64() rule cost several times more on a batch of 500.
const base64 = Joi.string().pattern(
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  'base64',
);
// Shapes only: what the bytes say (template, user data, encoding) is judged per payment, never a 400.
const upload = Joi.object<CampusCodeUpload>({
  txnNo: txnNo.required(),
  terminalId: Joi.string()
    .pattern(/^[A-Za-z0-9_.:-]{1,64}$/, 'terminal id')
    .required(),
  finalData: base64.min(4).max(4096).required(),
  userData: base64.allow('').max(4096).required(),
  templateId: Joi.number().integer().strict().min(0).max(4_294_967_295).required(),
  encodeType: Joi.string().max(32).required(),
  inUseTime: Joi.number().integer().strict().min(0).max(Number.MAX_SAFE_INTEGER).required(),
  amountFen: Joi.number().integer().strict().min(1).max(2_147_483_647).required(),
  scannedAt: Joi.string().isoDate().required(),
});
const uploadBody = Joi.object({
  payments: Joi.array().items(upload).min(1).max(MAX_UPLOAD_BATCH).required(),
});
const txnParams = Joi.object({ txnNo: txnNo.required() });

/** `/gateway/v1/campus-code/…` (DESIGN §6.2, §7.5; docs/gateway-api.md): devices upload offline payments. */
export function campusCodeRoutes(deps: Deps, router: Router): void {
  router.post('/campus-code/payments', spendNonce(deps), async (ctx) => {
    const { payments } = validate(uploadBody, ctx.request.body, 'body');
    ctx.body = await uploadCampusCodePayments(deps, ctx.state.gateway as GatewayState, payments);
  });

  router.get('/campus-code/payments/:txnNo', spendNonce(deps), async (ctx) => {
    const { txnNo: id } = validate(txnParams, ctx.params, 'params');
    ctx.body = await campusCodePaymentDetail(deps, (ctx.state.gateway as GatewayState).schoolId, id);
  });
}
