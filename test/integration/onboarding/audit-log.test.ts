import assert from 'node:assert/strict';
import { connectDatabase, type DatabaseHandle } from '../../../server/src/db/client.js';
import { schools } from '../../../server/src/db/schema.js';
import { recordAudit, systemActor } from '../../../server/src/domain/audit/audit.js';
import { freshDatabase } from '../../support/db.js';

describe('audit log', () => {
  let handle: DatabaseHandle;
  let schoolId: string;

  before(async () => {
    handle = connectDatabase(await freshDatabase());
    const [school] = await handle.db
      .insert(schools)
      .values({ code: '4132010009', name: '审计大学' })
      .returning();
    schoolId = school.id;
  });
  after(() => handle.close());

  it('writes who, which school, what, before and after, and the request id', async () => {
    const row = await recordAudit(handle.db, {
      actor: { kind: 'OPERATOR', name: 'alice', requestId: 'req-12345678' },
      schoolId,
      action: 'school.suspend',
      before: { status: 'ACTIVE', at: new Date('2026-01-01T00:00:00Z') },
      after: { status: 'SUSPENDED' },
    });
    assert.deepEqual(
      [row.actorKind, row.actorId, row.action, row.requestId, row.before, row.after],
      [
        'OPERATOR',
        'alice',
        'school.suspend',
        'req-12345678',
        { status: 'ACTIVE', at: '2026-01-01T00:00:00.000Z' },
        { status: 'SUSPENDED' },
      ],
    );
  });

  it('is written in the transaction of the change: a change that rolls back leaves no row', async () => {
    const count = async () =>
      (await handle.pool.query('select count(*)::int as n from audit_log where school_id = $1', [schoolId]))
        .rows[0].n as number;
    const before = await count();
    await assert.rejects(
      handle.db.transaction(async (tx) => {
        await recordAudit(tx, { actor: systemActor('test'), schoolId, action: 'school.settings.update' });
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.equal(await count(), before);
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await recordAudit(handle.db, { actor: systemActor('test'), schoolId, action: 'school.create' });
    for (const statement of [
      `update audit_log set action = 'nothing.happened'`,
      'delete from audit_log',
      'truncate audit_log',
    ]) {
      await assert.rejects(handle.pool.query(statement), (error: { code?: string; message: string }) => {
        assert.equal(error.code, '42501', statement);
        assert.match(error.message, /append-only/);
        return true;
      });
    }
    const { rows } = await handle.pool.query(
      `select count(*)::int as n from audit_log where action = 'nothing.happened'`,
    );
    assert.equal(rows[0].n, 0);
  });
});
