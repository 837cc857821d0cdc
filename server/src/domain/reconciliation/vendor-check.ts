import type { RechargeToCheck } from '../../db/repos/reconciliation/matching.js';
import type { CardSystem } from '../../integrations/cardsys/index.js';

/**
 * The vendor's side of the day's recharges: its records (GetPersonDetails) of each card concerned, read
 * once per card however many recharges the card had, at most `concurrency` calls at a time and at most
 * `maxCards` cards per run, so a day never floods the school's card system. Returns the credits found per
 * flow number (our order number, the vendor's RefNo) and the cards left unchecked.
 */
export async function vendorCredits(
  cardSystem: CardSystem,
  recharges: readonly RechargeToCheck[],
  window: { from: Date; to: Date },
  limits: { concurrency: number; maxCards: number },
): Promise<{ credits: Map<string, number[]>; checkedCards: number; uncheckedCards: number }> {
  const byCard = new Map<string, Set<string>>();
  for (const r of recharges) {
    if (!byCard.has(r.cardNo)) byCard.set(r.cardNo, new Set());
    byCard.get(r.cardNo)!.add(r.outTradeNo);
  }
  const cards = [...byCard.keys()];
  const toCheck = cards.slice(0, limits.maxCards);
  const credits = new Map<string, number[]>();
  let next = 0;
  const worker = async () => {
    while (next < toCheck.length) {
      const cardNo = toCheck[next];
      next += 1;
      const wanted = byCard.get(cardNo)!;
      for await (const record of cardRecharges(cardSystem, cardNo, window)) {
        if (!record.referenceNo || !wanted.has(record.referenceNo)) continue;
        const list = credits.get(record.referenceNo) ?? [];
        list.push(record.amountFen);
        credits.set(record.referenceNo, list);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limits.concurrency, toCheck.length) }, worker));
  return { credits, checkedCards: toCheck.length, uncheckedCards: cards.length - toCheck.length };
}

const PAGE_SIZE = 100;
/** A card with more records than this in the window is read no further (a safeguard, not a limit met). */
const MAX_PAGES = 20;

async function* cardRecharges(cardSystem: CardSystem, cardNo: string, window: { from: Date; to: Date }) {
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const statement = await cardSystem.getStatement({ cardNo, ...window, page, pageSize: PAGE_SIZE });
    for (const record of statement.records) if (record.kind === 'RECHARGE') yield record;
    if (page * PAGE_SIZE >= statement.total || statement.records.length === 0) return;
  }
}
