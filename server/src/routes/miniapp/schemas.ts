import Joi from 'joi';
import { isValidIdNumber, normaliseIdNumber } from '../../../../shared/id-number.js';
import { normaliseMobile } from '../../../../shared/phone.js';

/** joi schemas of the mini-program API, next to its routes. */

export const uuid = Joi.string().guid({ version: ['uuidv4', 'uuidv7'] });
export const idParams = Joi.object({ id: uuid.required() });

/** Integer fen, positive, within a PostgreSQL integer column (≈ ¥21 million). */
export const amountFen = Joi.number().integer().strict().min(1).max(2_147_483_647);

export const cardNo = Joi.string()
  .trim()
  .pattern(/^[A-Za-z0-9]{4,32}$/, 'card number');

const ID_TAIL = /^[0-9]{5}[0-9X]$/;

/** A resident ID number with a valid GB 11643 check character, normalised (upper-case X, no spaces). */
export const fullIdNumber = Joi.string()
  .trim()
  .max(32)
  .custom((value: string, helpers) => {
    const id = normaliseIdNumber(value);
    return isValidIdNumber(id) ? id : helpers.error('any.invalid');
  })
  .messages({ 'any.invalid': '{{#label}} must be an 18-character ID number with a valid check digit' });

/** The whole ID number (checksum-valid) or, as schools commonly ask, its last 6 characters. */
export const idNumberOrTail = Joi.string()
  .trim()
  .max(32)
  .custom((value: string, helpers) => {
    const id = normaliseIdNumber(value);
    return ID_TAIL.test(id) || isValidIdNumber(id) ? id : helpers.error('any.invalid');
  })
  .messages({
    'any.invalid':
      '{{#label}} must be the 18-character ID number (valid check digit) or its last 6 characters',
  });

/** A mainland mobile number, normalised to its 11 digits. */
export const mobile = Joi.string()
  .trim()
  .max(20)
  .custom((value: string, helpers) => normaliseMobile(value) ?? helpers.error('any.invalid'))
  .messages({ 'any.invalid': '{{#label}} must be an 11-digit mobile number' });
