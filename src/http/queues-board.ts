import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../secrets.ts';

export const QUEUES_BOARD_PATH = '/admin/queues';

/** The admin token, as a bearer token (scripts) or as the password of HTTP Basic auth (browsers). */
export function givenToken(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('Bearer ')) return header.slice(7);
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return '';
}

/**
 * bull-board (the queues' web UI: waiting, delayed, failed jobs; retry, clean) at /admin/queues, behind
 * the admin token. Without a token configured it is not mounted at all (404).
 */
export function registerQueuesBoard(
  app: FastifyInstance,
  deps: { token: string | undefined; queues: Queue[] },
): void {
  const token = deps.token;
  if (!token) return;
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Thi đua – queues' } },
  });
  void app.register(async (scope) => {
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (safeEqual(givenToken(request.headers.authorization), token)) return;
      await reply
        .code(401)
        .header('www-authenticate', 'Basic realm="thidua queues", charset="UTF-8"')
        .send({ error: { code: 'unauthorized', message: 'the admin token is required', details: null } });
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUES_BOARD_PATH });
  });
}
