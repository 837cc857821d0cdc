import type { CampusCodeEntry } from '../../../../shared/api.js';
import type { Deps } from '../../deps.js';
import { activeSchool, ownBinding } from '../cards/bindings.js';
import { DomainError } from '../errors.js';

/**
 * Where the card home sends a student to show the campus code: Alipay's own campus-code mini-program
 * (ALIPAY-M2.md §5), opened with my.navigateToMiniProgram. Its parameters travel as ONE URL-encoded
 * string in extraData.query (not `query`, not `path`). The values' meanings come from an image table we
 * could not read ([INF] in ALIPAY-M2.md): institutionCode is the school's Alipay campus id (学校内标),
 * institutionType 00000002 a school, sourceId our app id, sourceType 00000001 an ISV app, codeType the
 * double-offline code that campus devices decode (seed 001).
 */
export const ALIPAY_CAMPUS_CODE_APP_ID = '77700203';

export function campusCodeQuery(institutionCode: string, sourceAppId: string): string {
  return [
    `institutionCode=${institutionCode}`,
    'institutionType=00000002',
    `sourceId=${sourceAppId}`,
    'sourceType=00000001',
    'codeType=codec_double_offline_code',
  ].join('&');
}

export async function campusCodeEntry(
  deps: Pick<Deps, 'db' | 'config'>,
  userId: string,
  bindingId: string,
): Promise<CampusCodeEntry> {
  const binding = await ownBinding(deps, userId, bindingId);
  const school = await activeSchool(deps, binding.schoolId);
  const appId = deps.config.alipay?.appId;
  if (!school.alipayInstitutionCode || !appId) throw new DomainError('CAMPUS_CODE_NOT_AVAILABLE');
  return {
    appId: ALIPAY_CAMPUS_CODE_APP_ID,
    extraData: { query: encodeURIComponent(campusCodeQuery(school.alipayInstitutionCode, appId)) },
  };
}
