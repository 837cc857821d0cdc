import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { runOperator } from '../../../scripts/operator/main.js';
import { adminOf } from '../../support/admins.js';
import { eventually, type HttpResult } from '../../support/http.js';
import { testIdNumber, testMobile } from '../../support/identity.js';
import { startStack, type Stack, type StackUser } from '../../support/stack.js';

/**
 * Roster import (issue 13): a school's CSV or XLSX file over HTTP (multipart) and from the operator's
 * command line, checked row by row into a report, upserted by card number through the roster repository
 * that binding reads, large files by a job with progress. Then students bind with one tap against it.
 */
describe('roster import', function () {
  this.timeout(180_000);
  let stack: Stack;
  let owner: Awaited<ReturnType<typeof adminOf>>['http'];
  let base: string;

  before(async () => {
    stack = await startStack({ env: { ROSTER_INLINE_BYTES: '4096' } });
    owner = (await adminOf(stack, stack.school.id, 'OWNER')).http;
    base = `/api/v1/admin/schools/${stack.school.id}`;
  });
  after(() => stack.stop());

  async function upload(
    content: string | Buffer,
    options: { fileName?: string; markMissingAsLeft?: boolean; as?: typeof owner } = {},
  ): Promise<HttpResult> {
    const form = new FormData();
    form.append('file', new Blob([content]), options.fileName ?? 'roster.csv');
    if (options.markMissingAsLeft) form.append('markMissingAsLeft', 'true');
    const http = options.as ?? owner;
    const token = (http as unknown as { token?: string }).token;
    const response = await fetch(`${stack.app.url}${base}/roster/imports`, {
      method: 'POST',
      body: form,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? JSON.parse(text) : undefined,
      text,
      headers: response.headers,
    };
  }

  async function rosterRow(cardNo: string) {
    const { rows } = await stack.app.deps.pool.query(
      'select * from roster_entries where school_id = $1 and card_no = $2',
      [stack.school.id, cardNo],
    );
    return rows[0];
  }

  const HEADER = '姓名,学号,卡号,身份证号,手机号,监护人手机,是否学生';

  it('imports good rows and reports every bad one by row, field and reason; ID numbers and phones only hashed', async () => {
    const id = testIdNumber('20050607');
    const phone = testMobile();
    const badId = `${id.slice(0, 17)}${id[17] === '0' ? '1' : '0'}`;
    const csv = [
      HEADER,
      `王小明,S001,71000001,${id},${phone},${testMobile()},是`,
      `李雷,S002,71000002,${badId},,,是`,
      `韩梅梅,S003,71000003,,12345,,是`,
      `,S004,71000004,,,,是`,
      `张老师,,71000005,,,,否`,
      `重复,S006,71000001,,,,是`,
      `赵六,S007,71000007,,,,也许`,
    ].join('\n');
    const res = await upload(csv);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(
      [res.body.status, res.body.totalRows, res.body.inserted, res.body.rejected],
      ['DONE', 7, 2, 5],
    );
    assert.deepEqual(
      res.body.errors.map((e: { row: number; field: string }) => [e.row, e.field]),
      [
        [3, 'idNumber'],
        [4, 'phone'],
        [5, 'name'],
        [7, 'cardNo'],
        [8, 'isStudent'],
      ],
    );
    assert.match(res.body.errors[3].reason, /duplicate of row 2/);
    const stored = await rosterRow('71000001');
    assert.equal(stored.name, '王小明');
    assert.ok(stored.id_number_hash && stored.id_number_enc && stored.phone_hash);
    assert.ok(
      !JSON.stringify(stored).includes(id) && !JSON.stringify(stored).includes(phone),
      'no clear PII',
    );
    assert.equal((await rosterRow('71000005')).is_student, false);
    assert.ok(!res.text.includes(badId), 'the report does not repeat personal data');
  });

  it('changes nothing when the same file comes twice, and both imports are in the audit log', async () => {
    const csv = [HEADER, `甲,A1,72000001,${testIdNumber()},,,是`, `乙,A2,72000002,,,,是`].join('\n');
    const first = await upload(csv);
    const second = await upload(csv);
    assert.deepEqual(
      [first.body.inserted, second.body.inserted, second.body.updated, second.body.unchanged],
      [2, 0, 0, 2],
    );
    const { rows } = await stack.app.deps.pool.query(
      `select after from audit_log where school_id = $1 and action = 'roster.import' and target = any($2)`,
      [stack.school.id, [first.body.id, second.body.id]],
    );
    assert.equal(rows.length, 2);
  });

  it('marks rows missing from the file as left only when asked', async () => {
    await upload([HEADER, `丙,B1,73000001,,,,是`, `丁,B2,73000002,,,,是`].join('\n'));
    const kept = await upload([HEADER, `丙,B1,73000001,,,,是`].join('\n'));
    assert.equal(kept.body.markedLeft, 0);
    assert.equal((await rosterRow('73000002')).left_at, null);
    const marked = await upload([HEADER, `丙,B1,73000001,,,,是`].join('\n'), { markMissingAsLeft: true });
    assert.ok(marked.body.markedLeft >= 1);
    assert.notEqual((await rosterRow('73000002')).left_at, null);
  });

  it('refuses a file with an unknown column or without a card number column, importing nothing', async () => {
    const res = await upload(['姓名,卡号,爱好', '戊,74000001,篮球'].join('\n'));
    assert.deepEqual(
      [res.status, res.body.error.code, res.body.error.field],
      [422, 'ROSTER_FILE_INVALID', 'file'],
    );
    assert.match(res.body.error.message, /unknown column "爱好"/);
    assert.equal(await rosterRow('74000001'), undefined);
    const noCard = await upload(['姓名,学号', '己,C1'].join('\n'));
    assert.match(noCard.body.error.message, /no card number column/);
  });

  it('reads XLSX with English headers, numbers typed as numbers included', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('roster');
    const phone = testMobile();
    sheet.addRow(['Name', 'Student No', 'Card No', 'ID Number', 'Phone', 'Guardian Phone', 'Is Student']);
    sheet.addRow(['Li Hua', 'E1', 75000001, testIdNumber(), Number(phone), '', 'yes']);
    const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
    const res = await upload(bytes, { fileName: 'roster.xlsx' });
    assert.ok([201, 202].includes(res.status), res.text);
    // An XLSX file is a zip of several parts: larger than this suite's inline limit, so the job reads it.
    const done = await eventually(async () => {
      const view = (await owner.get(`${base}/roster/imports/${res.body.id}`)).body;
      return view.status === 'DONE' ? view : undefined;
    });
    assert.deepEqual([done.inserted, done.rejected], [1, 0]);
    assert.equal((await rosterRow('75000001')).phone_hash, stack.app.deps.protector.hash(phone));
  });

  it('imports a large file in the background and reports progress until it is done', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 3_000; i += 1) lines.push(`学生${i},L${i},76${String(i).padStart(6, '0')},,,,是`);
    // A card number again in a later batch (the job writes 2,000 lines at a time): refused, the first one stays.
    lines.push('重复,L9,76000000,,,,是');
    const res = await upload(lines.join('\n'));
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.status, 'QUEUED');
    const done = await eventually(
      async () => {
        const view = (await owner.get(`${base}/roster/imports/${res.body.id}`)).body;
        return view.status === 'DONE' ? view : undefined;
      },
      { timeoutMs: 60_000, message: 'the import job finished' },
    );
    assert.deepEqual(
      [done.totalRows, done.processedRows, done.inserted, done.rejected],
      [3_001, 3_001, 3_000, 1],
    );
    assert.deepEqual(done.errors, [{ row: 3_002, field: 'cardNo', reason: 'duplicate of row 2' }]);
    assert.equal((await rosterRow('76000000')).name, '学生0');
    const listed = await owner.get(`${base}/roster/imports`);
    assert.equal(listed.body.items[0].id, res.body.id);
    const { rows } = await stack.app.deps.pool.query('select content from roster_imports where id = $1', [
      res.body.id,
    ]);
    assert.equal(rows[0].content, null, 'the file is not kept');
  });

  it('lets only owners import (staff and viewers get 403)', async () => {
    const staff = (await adminOf(stack, stack.school.id, 'STAFF')).http;
    const res = await upload([HEADER, '庚,D1,77000001,,,,是'].join('\n'), { as: staff });
    assert.equal(res.status, 403);
  });

  it('imports from the operator command line with the same checks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-'));
    const file = path.join(dir, 'roster.csv');
    fs.writeFileSync(file, [HEADER, '辛,F1,78000001,,,,是', '壬,F2,78000002,,13800,,是'].join('\n'));
    const out: string[] = [];
    const code = await runOperator(['roster', 'import', '--school', stack.school.code, file], {
      env: { ...stack.app.env, OPERATOR_NAME: 'ops-test' },
      stdout: (text) => out.push(text),
      stderr: () => undefined,
    });
    assert.equal(code, 0, out.join(''));
    const report = JSON.parse(out.join(''));
    assert.deepEqual([report.inserted, report.rejected, report.errors[0].field], [1, 1, 'phone']);
    const { rows } = await stack.app.deps.pool.query(
      `select actor_kind, actor_id from audit_log where action = 'roster.import' and target = $1`,
      [report.id],
    );
    assert.deepEqual(rows, [{ actor_kind: 'OPERATOR', actor_id: 'ops-test' }]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('then students bind against the imported roster (issue #12 binding)', () => {
    async function authUserCode(user: StackUser, shares: { certNo?: boolean; mobile?: boolean }) {
      await stack.alipay.control.shareInfo(user.userId, shares);
      const { authCode } = await stack.alipay.control.issueAuthCode({
        userId: user.userId,
        appId: stack.alipay.appId,
        scopes: 'auth_user',
      });
      return authCode;
    }

    async function importedCard() {
      const card = await stack.createCard();
      const entry = { idNumber: testIdNumber('20010203'), phone: testMobile(), guardian: testMobile() };
      const res = await upload(
        [
          HEADER,
          `${card.holderName},,${card.cardNo},${entry.idNumber},${entry.phone},${entry.guardian},是`,
        ].join('\n'),
      );
      assert.equal(res.body.inserted, 1, res.text);
      return { ...card, ...entry };
    }

    async function lookUpAndBind(user: StackUser, lookup: Record<string, unknown>, expectedProof: string) {
      const api = await user.login();
      const found = await api.post('/api/v1/bindings/lookup', { schoolId: stack.school.id, ...lookup });
      assert.equal(found.status, 200, found.text);
      assert.equal(found.body.matches.length, 1, found.text);
      assert.equal(found.body.matches[0].proof, expectedProof);
      const bound = await api.post('/api/v1/bindings', {
        schoolId: stack.school.id,
        matchToken: found.body.matches[0].matchToken,
      });
      assert.equal(bound.status, 201, bound.text);
      return bound.body;
    }

    it('by the ID number Alipay certifies', async () => {
      const card = await importedCard();
      const student = await stack.createUser(100_000, { certNo: card.idNumber });
      const bound = await lookUpAndBind(
        student,
        { authCode: await authUserCode(student, { certNo: true }) },
        'ALIPAY_CERT',
      );
      assert.equal(bound.cardNo, card.cardNo);
    });

    it("by the student's own phone", async () => {
      const card = await importedCard();
      const student = await stack.createUser(100_000, { mobile: card.phone });
      await lookUpAndBind(
        student,
        { authCode: await authUserCode(student, { mobile: true }) },
        'ALIPAY_MOBILE',
      );
    });

    it("by a guardian's phone, as the parent", async () => {
      const card = await importedCard();
      const parent = await stack.createUser(100_000, { mobile: card.guardian });
      const bound = await lookUpAndBind(
        parent,
        { authCode: await authUserCode(parent, { mobile: true }) },
        'ALIPAY_GUARDIAN_MOBILE',
      );
      assert.equal(bound.relation, 'PARENT');
    });

    it('by a typed name and ID number', async () => {
      const card = await importedCard();
      const student = await stack.createUser();
      await lookUpAndBind(student, { name: card.holderName, idNumber: card.idNumber }, 'ID_NUMBER');
    });
  });
});
