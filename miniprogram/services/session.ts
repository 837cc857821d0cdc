/**
 * The BFF session token, kept in the mini-program's storage so a relaunch does not log in again. The
 * token is dropped a minute before the server would, so a request never leaves with a token about to die.
 */
const STORAGE_KEY = 'campus.session';
const EXPIRY_MARGIN_MS = 60 * 1000;

interface StoredSession {
  token: string;
  expiresAt: number;
}

function isStoredSession(value: unknown): value is StoredSession {
  const candidate = value as StoredSession | null;
  return (
    !!candidate &&
    typeof candidate.token === 'string' &&
    candidate.token !== '' &&
    typeof candidate.expiresAt === 'number'
  );
}

export function saveSession(token: string, expiresInSeconds: number): void {
  const session: StoredSession = { token, expiresAt: Date.now() + expiresInSeconds * 1000 };
  my.setStorageSync({ key: STORAGE_KEY, data: session });
}

/** The token while it is still good for a while; null means "log in first". */
export function currentToken(): string | null {
  const stored = my.getStorageSync({ key: STORAGE_KEY }).data;
  if (!isStoredSession(stored)) return null;
  return stored.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? stored.token : null;
}

export function clearSession(): void {
  my.removeStorageSync({ key: STORAGE_KEY });
}
