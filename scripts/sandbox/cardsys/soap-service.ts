/**
 * The six vendor operations on the SOAP wire: check the WS-Security UsernameToken of the school, read the
 * vendor's fields, run the ledger, answer in the vendor's units. Refusals become SOAP 1.1 faults carrying
 * `<CardServiceError><ErrorCode/><ErrorMsg/></CardServiceError>` in their detail.
 */
import type { IServices } from 'soap';
import type { CardLedger, CardRecord, School } from './ledger.js';
import { VendorRefusal } from './ledger.js';
import {
  IDENTITY_CODE,
  PAY_CHANNEL_CODE,
  STATUS_CODE,
  TRAN_TYPE_CODE,
  parseVendorTime,
  parseVendorYuan,
  toVendorTime,
  toVendorYuan,
} from './vendor-wire.js';
import type { CardServiceOperation } from './wsdl.js';

export const SOAP_PATH_PATTERN = /^\/cardsys\/([A-Za-z0-9_-]{1,32})\/CardService\.asmx$/;

export function soapPathOf(schoolCode: string): string {
  return `/cardsys/${schoolCode}/CardService.asmx`;
}

export function schoolCodeOfPath(pathname: string): string | null {
  return SOAP_PATH_PATTERN.exec(pathname)?.[1] ?? null;
}

type FaultCode = 'soap:Server' | 'soap:Client';

interface SoapFaultThrown {
  Fault: {
    faultcode: FaultCode;
    faultstring: string;
    detail: { CardServiceError: { ErrorCode: string; ErrorMsg: string } };
    statusCode: number;
  };
}

function fault(faultcode: FaultCode, code: string, message: string): SoapFaultThrown {
  return {
    Fault: {
      faultcode,
      faultstring: message,
      detail: { CardServiceError: { ErrorCode: code, ErrorMsg: message } },
      statusCode: 500, // SOAP 1.1 §6.2: faults travel with HTTP 500
    },
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The same fault document the SOAP server writes, for faults injected before any operation runs. */
export function soapFaultEnvelope(faultcode: FaultCode, code: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><soap:Fault><faultcode>${faultcode}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
    `<detail><CardServiceError><ErrorCode>${escapeXml(code)}</ErrorCode>` +
    `<ErrorMsg>${escapeXml(message)}</ErrorMsg></CardServiceError></detail></soap:Fault></soap:Body></soap:Envelope>`
  );
}

type Args = Record<string, unknown> | undefined;

function text(args: Args, field: string, maxLength = 64): string {
  const value = args?.[field];
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw fault('soap:Client', 'PARAM_ERROR', `参数错误: ${field}`);
  }
  return value.trim();
}

function integer(args: Args, field: string, min: number, max: number): number {
  const raw = args?.[field];
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fault('soap:Client', 'PARAM_ERROR', `参数错误: ${field}`);
  }
  return value;
}

function time(args: Args, field: string): Date {
  const parsed = parseVendorTime(args?.[field]);
  if (!parsed) throw fault('soap:Client', 'PARAM_ERROR', `参数错误: ${field} (yyyy-MM-dd HH:mm:ss)`);
  return parsed;
}

interface UsernameToken {
  Username?: unknown;
  Password?: unknown;
}

/** PasswordText UsernameToken only: the vendor expects HTTPS in production and compares the plain password. */
function isAuthorised(school: School, headers: unknown): boolean {
  const token = (headers as { Security?: { UsernameToken?: UsernameToken } } | undefined)?.Security
    ?.UsernameToken;
  if (!token) return false;
  const password =
    typeof token.Password === 'object' && token.Password !== null
      ? (token.Password as { $value?: unknown }).$value
      : token.Password;
  return token.Username === school.username && password === school.password;
}

function recordOnWire(record: CardRecord): Record<string, string> {
  return {
    TranSerial: record.serial,
    TranTime: toVendorTime(record.occurredAt),
    TranType: TRAN_TYPE_CODE[record.type],
    TranAmt: toVendorYuan(record.amountFen),
    Balance: toVendorYuan(record.balanceAfterFen),
    PayChannel: PAY_CHANNEL_CODE[record.channel],
    Place: record.place,
    TermId: record.terminalId,
    RefNo: record.refNo,
  };
}

type Operation = (school: School, args: Args) => Record<string, unknown>;

export function createCardService(ledger: CardLedger, now: () => Date = () => new Date()): IServices {
  const operations: Record<CardServiceOperation, Operation> = {
    GetPersonInfo(school, args) {
      const card = ledger.vendorCard(school, text(args, 'CardNo', 32));
      return {
        CardNo: card.cardNo,
        Name: card.name,
        Identity: IDENTITY_CODE[card.identity],
        Status: STATUS_CODE[card.status],
        StudentNo: card.studentNo ?? '',
        Balance: toVendorYuan(card.balanceFen),
        ZfbBind: card.bind ? '1' : '0',
      };
    },
    Recharge(school, args) {
      const cardNo = text(args, 'CardNo', 32);
      const flowNo = text(args, 'FlowNo', 64);
      if (!/^[A-Za-z0-9_-]+$/.test(flowNo)) throw fault('soap:Client', 'PARAM_ERROR', '参数错误: FlowNo');
      const amountFen = parseVendorYuan(args?.Amount);
      if (amountFen === null) throw fault('soap:Client', 'AMOUNT_INVALID', '金额格式错误');
      const outcome = ledger.recharge(school, { cardNo, amountFen, flowNo }, now());
      return {
        CardNo: outcome.cardNo,
        FlowNo: outcome.flowNo,
        Amount: toVendorYuan(outcome.amountFen),
        Balance: toVendorYuan(outcome.balanceAfterFen),
        TranSerial: outcome.serial,
        TranTime: toVendorTime(outcome.creditedAt),
      };
    },
    ZFB_BindDoc(school, args) {
      const card = ledger.bindAlipay(
        school,
        {
          cardNo: text(args, 'CardNo', 32),
          alipayUserId: text(args, 'ZfbUserId'),
          password: text(args, 'Password'),
        },
        now(),
      );
      return {
        CardNo: card.cardNo,
        ZfbUserId: card.bind?.alipayUserId,
        BindTime: toVendorTime(card.bind!.boundAt),
      };
    },
    ZFB_UnBindDoc(school, args) {
      const card = ledger.unbindAlipay(school, {
        cardNo: text(args, 'CardNo', 32),
        password: text(args, 'Password'),
      });
      return { CardNo: card.cardNo, UnBindTime: toVendorTime(now()) };
    },
    GetPersonDetails(school, args) {
      const cardNo = text(args, 'CardNo', 32);
      const from = time(args, 'BeginTime');
      const to = time(args, 'EndTime');
      if (from > to) throw fault('soap:Client', 'PARAM_ERROR', '参数错误: BeginTime 晚于 EndTime');
      const page = integer(args, 'PageIndex', 1, 100_000);
      const pageSize = integer(args, 'PageSize', 1, 100);
      const { total, records } = ledger.statement(school, { cardNo, from, to, page, pageSize });
      return {
        CardNo: cardNo,
        TotalCount: total,
        PageIndex: page,
        PageSize: pageSize,
        Records: { Record: records.map(recordOnWire) },
      };
    },
    Loss(school, args) {
      const card = ledger.reportLoss(school, text(args, 'CardNo', 32));
      return { CardNo: card.cardNo, Status: STATUS_CODE[card.status], LossTime: toVendorTime(now()) };
    },
    UnLoss(school, args) {
      if (school.supportsUnLoss === false) throw fault('soap:Client', 'PARAM_ERROR', '不支持的操作: UnLoss');
      const card = ledger.cancelLoss(school, text(args, 'CardNo', 32));
      return { CardNo: card.cardNo, Status: STATUS_CODE[card.status], UnLossTime: toVendorTime(now()) };
    },
  };

  const port: Record<
    string,
    (args: Args, callback: unknown, headers: unknown, req: { url?: string }) => unknown
  > = {};
  for (const [name, operation] of Object.entries(operations)) {
    port[name] = (args, _callback, headers, req) => {
      const school = ledger.findSchool(schoolCodeOfPath(new URL(req.url ?? '/', 'http://x').pathname) ?? '');
      if (!school) throw fault('soap:Client', 'AUTH_FAILED', '学校不存在');
      if (!isAuthorised(school, headers)) throw fault('soap:Client', 'AUTH_FAILED', '接口账号或密码错误');
      try {
        return operation(school, args);
      } catch (error) {
        if (error instanceof VendorRefusal) throw fault('soap:Client', error.code, error.message);
        if ((error as Partial<SoapFaultThrown>).Fault) throw error;
        throw fault('soap:Server', 'SYSTEM_ERROR', '系统内部错误');
      }
    };
  }
  return { CardService: { CardServiceSoap: port } };
}
