/**
 * Where the BFF lives. `npm run build:miniprogram` overwrites the compiled copy of this module with the
 * BFF_URL it was given (see scripts/build-miniprogram.ts); this default serves a local `npm start`.
 */
export const BFF_URL = 'http://127.0.0.1:3000';
