import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createApiToken, listApiTokens, revokeApiToken } from '../services/api-tokens.ts';
import type { AdminApiDeps } from './admin-api.ts';
import { idParam, isoDate } from './api-fields.ts';
import { callerOf } from './api-caller.ts';

const tokenBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\p{L}\p{N} _.-]+$/u, 'letters, digits, spaces, _ . - only'),
  role: z.enum(['admin', 'leader']),
  unitCode: z.string().trim().min(1).max(64),
  expiresOn: isoDate.nullish(),
});

/**
 * Operators' API tokens (admins only, within their subtree): POST makes one and answers its secret once,
 * GET lists them without secrets, DELETE revokes.
 */
export function registerTokensApi(api: FastifyInstance, deps: AdminApiDeps): void {
  api.post('/tokens', async (request, reply) => {
    const body = tokenBody.parse(request.body);
    const created = await createApiToken(deps.db, body, deps, callerOf(request));
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  api.get('/tokens', async (request) => listApiTokens(deps.db, deps, callerOf(request)));

  api.delete('/tokens/:id', async (request, reply) => {
    const { id } = idParam.parse(request.params);
    await revokeApiToken(deps.db, id, deps, callerOf(request));
    return reply.code(204).send();
  });
}
