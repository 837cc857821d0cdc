import type { CampusCodeExceptionKind } from '../../../../../shared/admin-api.js';
import { countExceptions, listExceptionRows } from '../../../db/repos/campus-code/exceptions.js';
import type { InboxKindDefinition } from '../inbox-kind.js';

/**
 * Campus-code payments the school must see (issue #14's lists, folded into the inbox): LATE uploads (chase
 * the device's vendor), EXPIRED uploads (too old to charge) and FAILED payments (Alipay refused; a debt of
 * the student). They have no actions here: the money is settled by the student's repayment or is the
 * school's loss, so they are shown but not counted on the dashboard's badge (`countsForBadge: false`).
 */
function campusCodeKind(
  kind: CampusCodeExceptionKind,
  title: string,
  itemTitle: string,
): InboxKindDefinition {
  return {
    kind: `campus-code.${kind.toLowerCase()}`,
    title,
    orderKind: null,
    countsForBadge: false,
    count: async (deps, schoolId) => (await countExceptions(deps.db, schoolId))[kind],
    async list(deps, schoolId, page) {
      const rows = await listExceptionRows(deps.db, schoolId, kind, {
        beforeId: page.after?.id,
        limit: page.limit,
      });
      return rows.map((row) => ({
        id: row.id,
        since: row.createdAt,
        orderNo: row.paymentNo,
        cardNo: null,
        amountFen: row.amountFen,
        status: row.status,
        detail: [
          row.studentNo,
          row.studentName,
          row.deviceName ?? row.gatewayClientId,
          row.lastErrorCode ?? row.rejectReason,
        ]
          .filter(Boolean)
          .join(' · '),
      }));
    },
    itemTitle: () => itemTitle,
    actions: {},
  };
}

export const lateCampusCodes = campusCodeKind('LATE', '校园码迟传', '校园码超过时限才上传');
export const expiredCampusCodes = campusCodeKind('EXPIRED', '校园码过期', '校园码上传太晚，无法扣款');
export const failedCampusCodes = campusCodeKind('FAILED', '校园码扣款失败', '支付宝拒绝了校园码扣款');
