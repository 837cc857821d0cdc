import {
  CARD_SYSTEM_CONNECTED_CHANNEL,
  findSchool,
  listSchoolsWithCardSystem,
  type SchoolRow,
} from '../../db/repos/schools/schools.js';
import type { Deps } from '../../deps.js';
import { ChannelListener } from '../channel-listener.js';
import type { BackgroundWork } from '../runner.js';

/** Schools prepared at once: a few WSDL downloads and parses in flight, not hundreds. */
const AT_ONCE = 2;

/**
 * Every process that runs jobs prepares the card-system clients of the schools it will call (the vendor's
 * WSDL downloaded and parsed, cardsys/soap/soap-clients.ts) when it starts and when a school's card system
 * is connected, instead of inside that school's first credit. Measured (issue 18 §2, bench:recharge on a
 * stack that has just started, timing logs in the worker): the first credit waited ≈ 140 ms for the WSDL
 * (≈ 125 ms of it the download, the first `fetch` of the process), and the 47 credits started beside it
 * with it. In the background: start-up never waits for a card system, and one that is down is tried again
 * by its first call, as before (a failed build is not kept).
 */
export function cardSystemWarmup(deps: Deps): BackgroundWork {
  const prepare = async (schools: SchoolRow[]) => {
    const queue = [...schools];
    const next = async (): Promise<void> => {
      for (let school = queue.shift(); school; school = queue.shift()) {
        try {
          await deps.schools.cardSystem(school).prepare();
        } catch (error) {
          deps.logger.info('card system not prepared; its first call tries again', {
            school: school.code,
            error,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, next));
  };
  const prepareAll = async () => prepare(await listSchoolsWithCardSystem(deps.db));
  const prepareOne = async (schoolId: string) => {
    const school = await findSchool(deps.db, schoolId);
    if (school?.cardsysEndpoint) await prepare([school]);
  };
  const inBackground = (work: Promise<void>) =>
    void work.catch((error: unknown) => deps.logger.warn('preparing card systems failed', { error }));
  const listener = new ChannelListener(
    CARD_SYSTEM_CONNECTED_CHANNEL,
    (schoolId) => inBackground(schoolId ? prepareOne(schoolId) : prepareAll()),
    deps,
  );
  return {
    async start() {
      await listener.start();
      inBackground(prepareAll());
    },
    stop: () => listener.stop(),
  };
}
