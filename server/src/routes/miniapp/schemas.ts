import Joi from 'joi';

/** joi schemas of the mini-program API, next to its routes. */

export const uuid = Joi.string().guid({ version: ['uuidv4', 'uuidv7'] });
export const idParams = Joi.object({ id: uuid.required() });

/** Integer fen, positive, within a PostgreSQL integer column (≈ ¥21 million). */
export const amountFen = Joi.number().integer().strict().min(1).max(2_147_483_647);

export const cardNo = Joi.string()
  .trim()
  .pattern(/^[A-Za-z0-9]{4,32}$/, 'card number');
