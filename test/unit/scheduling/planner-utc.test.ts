// The process time zone is set before anything reads a date; vitest runs each file in its own process.
process.env.TZ = 'UTC';
import { describe } from 'vitest';
import { schedulingSuite } from './cases.ts';

describe('scheduling under TZ=UTC', () => schedulingSuite('UTC'));
