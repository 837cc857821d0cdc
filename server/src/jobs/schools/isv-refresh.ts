import { refreshExpiringAuthorizations } from '../../domain/schools/isv-authorization.js';
import type { Deps } from '../../deps.js';
import type { JobDefinition } from '../runner.js';

/**
 * Refreshes schools' app_auth_tokens ISV_REFRESH_BEFORE_DAYS before they expire (grant_type=refresh_token,
 * ALIPAY-M2.md §4); a refresh Alipay refuses ends the authorization and suspends the school. Hourly by
 * default (ISV_REFRESH_EVERY_MS): failures are tried again on the next pass, weeks before the expiry.
 */
export function isvRefreshJob(deps: Pick<Deps, 'config'>): JobDefinition {
  return {
    name: 'isv.refresh-authorizations',
    every: deps.config.isv.refreshEveryMs,
    concurrency: 1,
    async run(_data, deps) {
      if (!deps.alipay) return;
      const { refreshed, failed } = await refreshExpiringAuthorizations(deps);
      if (refreshed + failed > 0) deps.logger.info('school authorizations refreshed', { refreshed, failed });
    },
  };
}
