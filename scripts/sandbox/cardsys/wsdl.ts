/**
 * The card vendor's service description (SOAP 1.1, document/literal wrapped). Operation names are the ones
 * in seed 000; field names, codes and units are the vendor's own: amounts are yuan strings with two
 * decimals ("12.30"), times are Asia/Shanghai wall-clock strings ("2024-03-01 12:00:00").
 * Every school gets the same WSDL with its own endpoint in soap:address.
 */

export const CARD_SERVICE_NAMESPACE = 'http://ykt.sandbox.local/CardService';

export const CARD_SERVICE_OPERATIONS = [
  'GetPersonInfo',
  'Recharge',
  'ZFB_BindDoc',
  'ZFB_UnBindDoc',
  'GetPersonDetails',
  'Loss',
  'UnLoss',
] as const;

export type CardServiceOperation = (typeof CARD_SERVICE_OPERATIONS)[number];

const FIELDS: Record<CardServiceOperation, { request: string[]; response: string[] }> = {
  GetPersonInfo: {
    request: ['CardNo'],
    response: ['CardNo', 'Name', 'Identity', 'Status', 'StudentNo', 'Balance', 'ZfbBind'],
  },
  Recharge: {
    request: ['CardNo', 'Amount', 'FlowNo'],
    response: ['CardNo', 'FlowNo', 'Amount', 'Balance', 'TranSerial', 'TranTime'],
  },
  ZFB_BindDoc: {
    request: ['CardNo', 'ZfbUserId', 'Password'],
    response: ['CardNo', 'ZfbUserId', 'BindTime'],
  },
  ZFB_UnBindDoc: {
    request: ['CardNo', 'Password'],
    response: ['CardNo', 'UnBindTime'],
  },
  GetPersonDetails: {
    request: ['CardNo', 'BeginTime', 'EndTime', 'PageIndex:int', 'PageSize:int'],
    response: ['CardNo', 'TotalCount:int', 'PageIndex:int', 'PageSize:int', 'Records:RecordList'],
  },
  Loss: {
    request: ['CardNo'],
    response: ['CardNo', 'Status', 'LossTime'],
  },
  // Not in seed 000's list: vendors that offer 解挂 online name it differently; this is our sandbox's name.
  UnLoss: {
    request: ['CardNo'],
    response: ['CardNo', 'Status', 'UnLossTime'],
  },
};

const RECORD_FIELDS = [
  'TranSerial',
  'TranTime',
  'TranType',
  'TranAmt',
  'Balance',
  'PayChannel',
  'Place',
  'TermId',
  'RefNo',
];

/** A field is "Name" (xsd:string), "Name:int" (xsd:int) or "Name:RecordList" (a type of this schema). */
function elementsOf(fields: string[]): string {
  return fields
    .map((field) => {
      const [name, type = 'string'] = field.split(':');
      const qualified = type === 'string' || type === 'int' ? `xsd:${type}` : `tns:${type}`;
      return `          <xsd:element name="${name}" type="${qualified}" minOccurs="0"/>`;
    })
    .join('\n');
}

function wrapper(name: string, fields: string[]): string {
  return `      <xsd:element name="${name}">
        <xsd:complexType>
          <xsd:sequence>
${elementsOf(fields)}
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>`;
}

/** Operations a vendor may leave out of its service; the platform reads the WSDL to know. */
export const OPTIONAL_OPERATIONS: readonly CardServiceOperation[] = ['UnLoss'];

export function cardServiceWsdl(
  endpoint: string,
  options: { without?: readonly CardServiceOperation[] } = {},
): string {
  const ops = CARD_SERVICE_OPERATIONS.filter((op) => !options.without?.includes(op));
  return `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="CardService"
  targetNamespace="${CARD_SERVICE_NAMESPACE}"
  xmlns:tns="${CARD_SERVICE_NAMESPACE}"
  xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xsd:schema targetNamespace="${CARD_SERVICE_NAMESPACE}" elementFormDefault="qualified">
      <xsd:complexType name="Record">
        <xsd:sequence>
${elementsOf(RECORD_FIELDS)}
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="RecordList">
        <xsd:sequence>
          <xsd:element name="Record" type="tns:Record" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence>
      </xsd:complexType>
${wrapper('CardServiceError', ['ErrorCode', 'ErrorMsg'])}
${ops.map((op) => `${wrapper(op, FIELDS[op].request)}\n${wrapper(`${op}Response`, FIELDS[op].response)}`).join('\n')}
    </xsd:schema>
  </wsdl:types>
${ops
  .map(
    (
      op,
    ) => `  <wsdl:message name="${op}SoapIn"><wsdl:part name="parameters" element="tns:${op}"/></wsdl:message>
  <wsdl:message name="${op}SoapOut"><wsdl:part name="parameters" element="tns:${op}Response"/></wsdl:message>`,
  )
  .join('\n')}
  <wsdl:portType name="CardServiceSoap">
${ops
  .map(
    (op) => `    <wsdl:operation name="${op}">
      <wsdl:input message="tns:${op}SoapIn"/>
      <wsdl:output message="tns:${op}SoapOut"/>
    </wsdl:operation>`,
  )
  .join('\n')}
  </wsdl:portType>
  <wsdl:binding name="CardServiceSoap" type="tns:CardServiceSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>
${ops
  .map(
    (op) => `    <wsdl:operation name="${op}">
      <soap:operation soapAction="${CARD_SERVICE_NAMESPACE}/${op}" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>`,
  )
  .join('\n')}
  </wsdl:binding>
  <wsdl:service name="CardService">
    <wsdl:port name="CardServiceSoap" binding="tns:CardServiceSoap">
      <soap:address location="${endpoint}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}
