import { z } from 'zod';
import { isValidIsoDate } from '../domain/time.ts';

/*
 * The fields every part of the admin API reads the same way, so that a unit's or an official's code, or a
 * date, is accepted by one rule whichever route it comes through.
 */

/** A unit's, an official's or a block's code. */
export const code = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}_.\-/]+$/u, 'letters, digits, _ . - / only');
export const isoDate = z.string().refine(isValidIsoDate, 'a date as YYYY-MM-DD');
export const codeParam = z.object({ code });
export const idParam = z.object({ id: z.string().min(1).max(64) });
