/**
 * What a student or parent reads when something goes wrong (中文). Every stable error code of
 * shared/errors.ts has a sentence here — the type below makes a missing one a compile error — plus the
 * client-side failures of the mini-program (network, timeout, Alipay login) that never reach the server.
 * Plain TS without Node or `my` APIs: used by the mini-program and available to the server.
 */
import type { ErrorCode } from './errors.js';

export const ERROR_MESSAGES_ZH: Readonly<Record<ErrorCode, string>> = {
  // generic
  VALIDATION_FAILED: '填写的信息有误，请检查后再试',
  BODY_TOO_LARGE: '提交的内容太多了，请精简后再试',
  UNSUPPORTED_MEDIA_TYPE: '请求格式不正确，请升级支付宝后再试',
  NOT_FOUND: '没有找到相关信息',
  METHOD_NOT_ALLOWED: '暂不支持这个操作，请升级支付宝后再试',
  RATE_LIMITED: '操作太频繁了，请稍等片刻再试',
  INTERNAL: '系统开小差了，请稍后再试',
  SERVICE_UNAVAILABLE: '服务暂时不可用，请稍后再试',
  // auth
  UNAUTHENTICATED: '请先登录后再操作',
  SESSION_EXPIRED: '登录已过期，请重新进入小程序',
  FORBIDDEN: '您没有权限进行这个操作',
  GATEWAY_AUTH_FAILED: '终端校验没有通过，请联系学校一卡通中心',
  ALIPAY_AUTH_FAILED: '支付宝登录没有成功，请重新进入小程序',
  // schools and cards
  SCHOOL_NOT_FOUND: '没有找到这所学校',
  SCHOOL_DISABLED: '这所学校暂未开通校园卡服务',
  SCHOOL_SUSPENDED: '学校的校园卡支付服务已暂停，暂时不能充值或开通代扣，请联系学校一卡通中心',
  CARD_NOT_FOUND: '没有找到这张校园卡，请核对卡号',
  CARD_NAME_MISMATCH: '持卡人姓名与卡号不一致，请核对后再试',
  CARD_NOT_NORMAL: '这张卡已挂失或被冻结，暂时不能绑定，请联系学校一卡通中心',
  BINDING_NOT_FOUND: '没有找到这张已绑定的校园卡',
  BINDING_EXISTS: '您已经绑定过这张校园卡了',
  BINDING_NOT_ACTIVE: '这张卡已挂失或已解绑，不能进行这个操作',
  IDENTITY_NOT_VERIFIED: '身份信息与学校登记的不一致，请核对后再试',
  HOLDER_EXISTS: '持卡人本人已经绑定了这张卡。如果您是家长，请选择“家长”身份绑定',
  BINDING_PENDING_APPROVAL: '还在等待持卡人同意您的绑定，同意后才能查看和使用这张卡',
  NOT_CARD_HOLDER: '只有持卡人本人可以进行这个操作',
  BINDING_MATCH_EXPIRED: '查找结果已过期，请重新查找您的校园卡',
  UNLOSS_NOT_SUPPORTED: '学校一卡通系统暂不支持在线解挂，请携带证件到学校一卡通服务中心办理',
  // recharge
  RECHARGE_NOT_FOUND: '没有找到这笔充值订单',
  AMOUNT_OUT_OF_RANGE: '充值金额不在学校允许的范围内',
  // withholding and deductions
  AGREEMENT_NOT_FOUND: '您还没有开通刷卡免密代扣',
  AGREEMENT_EXISTS: '您已经开通了刷卡免密代扣',
  CARD_PAID_BY_OTHER:
    '这张卡的食堂刷卡已由另一位支付宝用户（如另一位家长）代扣支付，需对方先关闭后您才能开通',
  WITHHOLDING_DISABLED: '学校暂未开通刷卡免密代扣',
  HAS_ARREARS: '您有未还清的代扣欠款，请先还款',
  NO_DEBTS: '您当前没有需要还的欠款',
  DEDUCTION_NOT_FOUND: '没有找到这笔扣款记录',
  TXN_CONFLICT: '这笔交易与之前的记录不一致，请联系学校一卡通中心',
  CAMPUS_CODE_PAYMENT_NOT_FOUND: '没有找到这笔校园码支付',
  CAMPUS_CODE_NOT_AVAILABLE: '本校还没有开通支付宝校园码，请先用校园卡消费',
  // terminal orders
  TERMINAL_NOT_FOUND: '没有找到这台售货机或收银窗口',
  TERMINAL_EXISTS: '这个终端编号在本校已经登记过了',
  TERMINAL_DISABLED: '这台售货机或收银窗口已停用',
  TERMINAL_MISMATCH: '终端身份与订单不一致',
  ORDER_CONFLICT: '这个订单号已用于另一笔不同的订单',
  TERMINAL_ORDER_NOT_FOUND: '没有找到这笔订单，请重新扫描机器上的二维码',
  ORDER_NOT_PAYABLE: '这笔订单已经支付或已关闭，请在机器上重新下单',
  ORDER_NOT_PAID: '这笔订单还没有支付',
  DISPENSE_CONFLICT: '这笔订单的出货结果已经上报过了',
  PHONE_REQUIRED: '本校要求首次付款前授权登记支付宝手机号',
  PHONE_NOT_SHARED: '支付宝没有提供手机号，请在授权时允许获取手机号后再试',
  // school onboarding and admins
  SCHOOL_EXISTS: '这个学校代码已经登记过了',
  SCHOOL_NOT_READY: '学校的支付宝授权或一卡通系统还没有接好，暂时不能开通',
  AUTHORIZATION_LINK_INVALID: '授权链接无效，请向平台索取新的授权链接',
  AUTHORIZATION_LINK_USED: '这个授权链接已经用过了，请向平台索取新的授权链接',
  AUTHORIZATION_LINK_EXPIRED: '授权链接已过期，请向平台索取新的授权链接',
  INVITATION_NOT_FOUND: '邀请码不正确，请核对后再试',
  INVITATION_USED: '这个邀请码已经被使用过了，请向学校索取新的邀请码',
  INVITATION_EXPIRED: '邀请码已过期，请向学校索取新的邀请码',
  ALREADY_ADMIN: '您已经是这所学校的管理员了',
  ADMIN_NOT_FOUND: '没有找到这位管理员',
  LAST_OWNER: '学校至少要保留一位负责人',
  RECONCILIATION_DAY_NOT_FOUND: '这一天还没有对账',
  RECONCILIATION_RUNNING: '这一天正在对账，请稍后再试',
  RECONCILIATION_EXPORT_LINK_EXPIRED: '下载链接已过期或无效，请在小程序中重新复制',
  FINDING_NOT_FOUND: '没有找到这条对账差异',
  FINDING_ACTION_NOT_APPLICABLE: '这条差异不能这样处理',
  ORDER_NOT_FOUND: '没有找到这笔订单',
  INBOX_ITEM_NOT_FOUND: '这条待处理事项已不存在，请刷新',
  ACTION_NOT_ALLOWED: '这笔订单的状态已变化，不能再这样处理，请刷新后查看',
  RECHARGE_ALREADY_CREDITED: '一卡通已为这笔充值入账，不能再退款',
  REFUND_IN_PROGRESS: '这笔订单正在退款，请稍后刷新',
  DEBT_IN_REPAYMENT: '付款人正在补缴这笔欠款，请稍后再看',
  ROSTER_FILE_INVALID: '名单文件无法导入，请按模板检查表头和格式',
  ROSTER_IMPORT_NOT_FOUND: '没有找到这次导入',
  // membership card
  CRM_AUTH_FAILED: '会员卡系统校验没有通过，请联系学校一卡通中心',
  MEMBER_NOT_FOUND: '没有找到与您信息匹配的校园卡，仅本校师生可以领取',
  MEMBERSHIP_CARD_NOT_FOUND: '没有找到您领取的校园会员卡',
  MEMBERSHIP_CARD_TAKEN: '这张校园卡已添加到其他支付宝账户的卡包',
  // outside systems
  CARD_SYSTEM_UNAVAILABLE: '学校一卡通系统暂时连不上，请稍后再试',
  CARD_SYSTEM_REJECTED: '学校一卡通系统没有受理这次操作，请联系学校一卡通中心',
  ALIPAY_UNAVAILABLE: '支付宝暂时连不上，请稍后再试',
  ALIPAY_REJECTED: '支付宝没有受理这次操作，请稍后再试',
};

/** Failures the mini-program sees before or instead of a server answer. */
export const CLIENT_MESSAGES_ZH = {
  NETWORK_ERROR: '网络不太好，请检查网络后重试',
  TIMEOUT: '网络超时了，请稍后重试',
  BAD_RESPONSE: '服务返回的内容看不懂，请稍后重试',
  DOMAIN_NOT_ALLOWED: '小程序暂时无法连接服务器，请联系学校',
  LOGIN_FAILED: '支付宝登录没有成功，请重试',
  LOGIN_CANCELLED: '需要您同意支付宝授权才能继续',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_MESSAGES_ZH;

/** For a code nobody has written a sentence for yet (a newer server, an unexpected answer). */
export const FALLBACK_MESSAGE_ZH = '操作没有成功，请稍后再试';

function hasOwn<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/** The sentence for a server or client error code; the fallback for anything unknown. */
export function messageForCode(code: string | null | undefined): string {
  if (!code) return FALLBACK_MESSAGE_ZH;
  if (hasOwn(ERROR_MESSAGES_ZH, code)) return ERROR_MESSAGES_ZH[code];
  if (hasOwn(CLIENT_MESSAGES_ZH, code)) return CLIENT_MESSAGES_ZH[code];
  return FALLBACK_MESSAGE_ZH;
}
