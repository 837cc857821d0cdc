import Router from '@koa/router';
import type { Deps } from '../deps.js';

/**
 * Reference routes for `npm run bench:deduct` only (BENCH_REFERENCE_ROUTES=1), on the same server as the
 * gateway: `/bench/bare` answers without any work, `/bench/one-insert` does what a durable, idempotent
 * answer needs at the least — one `insert … on conflict do nothing returning` into an indexed table, one
 * database round trip. The deduct route's throughput is reported as a ratio to both.
 */
export function benchRoutes(deps: Deps): Router {
  const router = new Router({ prefix: '/bench' });
  let table: Promise<unknown> | undefined;
  const ensureTable = () =>
    (table ??= deps.pool.query(`
      create table if not exists bench_requests (
        id bigserial primary key,
        school_id uuid not null,
        txn_no text not null,
        card_no text not null,
        amount_fen integer not null,
        created_at timestamptz not null default now()
      );
      create unique index if not exists bench_requests_school_txn_key on bench_requests (school_id, txn_no)`));

  router.post('/bare', (ctx) => {
    ctx.body = { ok: true };
  });

  router.post('/one-insert', async (ctx) => {
    await ensureTable();
    const body = ctx.request.body as { txnNo?: string; cardNo?: string; amountFen?: number };
    const { rows } = await deps.pool.query({
      name: 'bench_one_insert',
      text: `insert into bench_requests (school_id, txn_no, card_no, amount_fen) values ($1, $2, $3, $4)
             on conflict do nothing returning id`,
      values: ['00000000-0000-4000-8000-000000000000', body.txnNo, body.cardNo, body.amountFen],
    });
    ctx.body = { ok: true, id: rows[0]?.id ?? null };
  });

  return router;
}
