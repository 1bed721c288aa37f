import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isValidIsoDate } from '../domain/time.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../services/api-tokens.ts';
import { DomainError } from '../services/errors.ts';
import { requireAdmin } from '../services/scope.ts';
import { formText, type FormErrors } from './campaign-form.ts';
import { flatten } from './campaign-writes.ts';
import { unitTree } from '../services/console-reads.ts';
import { identityOf, type ConsoleContext } from './context.ts';
import { noStore } from './security.ts';

/**
 * Operators' API tokens (services/api-tokens.ts): the tokens of the admin's subtree, a new one (its secret
 * shown on the answer to the form, once, never again), and revoking one.
 */

const NAME = /^[\p{L}\p{N} _.-]+$/u;
const idParams = z.object({ id: z.string().max(64) });
type TokenValues = Record<'name' | 'role' | 'unitCode' | 'expiresOn', string>;

export function registerTokenPages(scope: FastifyInstance, context: ConsoleContext): void {
  const { deps, views } = context;
  const { db } = deps;

  const callerOf = (request: FastifyRequest) => {
    const identity = identityOf(request);
    requireAdmin(identity.principal);
    return { identity, caller: { actor: identity.actor, principal: identity.principal } };
  };

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    data: { values?: TokenValues; errors?: FormErrors; created?: { name: string; token: string } | null },
  ) => {
    const { identity, caller } = callerOf(request);
    const [tokens, roots] = await Promise.all([
      listApiTokens(db, deps, caller),
      unitTree(db, identity.principal.root?.path ?? null),
    ]);
    const errors = data.errors ?? {};
    noStore(reply);
    return views.page(
      reply,
      'tokens',
      {
        identity,
        csrf: context.csrfFor(request, reply),
        section: 'tokens',
        status: Object.keys(errors).length > 0 ? 400 : 200,
      },
      {
        title: views.t(identity.locale)('tokens.title'),
        tokens,
        units: flatten(roots),
        values: data.values ?? {
          name: '',
          role: 'leader',
          unitCode: identity.official?.unit.code ?? roots[0]?.code ?? '',
          expiresOn: '',
        },
        errors,
        created: data.created ?? null,
        revoked: formText((request.query as Record<string, unknown>).revoked),
      },
    );
  };

  scope.get('/tokens', async (request, reply) => show(request, reply, {}));

  scope.post('/tokens', async (request, reply) => {
    const { caller } = callerOf(request);
    const fields = (request.body ?? {}) as Record<string, unknown>;
    const values: TokenValues = {
      name: formText(fields.name),
      role: formText(fields.role),
      unitCode: formText(fields.unitCode),
      expiresOn: formText(fields.expiresOn),
    };
    const errors: FormErrors = {};
    if (values.name === '') errors.name = { key: 'form.errors.required' };
    else if (values.name.length > 100 || !NAME.test(values.name)) errors.name = { key: 'tokens.errors.name' };
    const role = values.role === 'admin' || values.role === 'leader' ? values.role : undefined;
    if (!role) errors.role = { key: 'form.errors.required' };
    if (values.unitCode === '') errors.unitCode = { key: 'form.errors.required' };
    if (values.expiresOn !== '' && !isValidIsoDate(values.expiresOn))
      errors.expiresOn = { key: 'form.errors.date' };
    if (Object.keys(errors).length > 0 || !role) return show(request, reply, { values, errors });
    try {
      const created = await createApiToken(
        db,
        { name: values.name, role, unitCode: values.unitCode, expiresOn: values.expiresOn || null },
        deps,
        caller,
      );
      return await show(request, reply, { created: { name: created.name, token: created.token } });
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind === 'forbidden' || error.kind === 'not_found')
        throw error;
      const field =
        {
          reserved_name: 'name',
          duplicate_name: 'name',
          expires_in_past: 'expiresOn',
          unknown_unit: 'unitCode',
        }[error.code] ?? 'name';
      return show(request, reply, { values, errors: { [field]: { key: `tokens.errors.${error.code}` } } });
    }
  });

  scope.post('/tokens/:id/revoke', async (request, reply) => {
    const { caller } = callerOf(request);
    const { id } = idParams.parse(request.params);
    await revokeApiToken(db, id, deps, caller);
    return reply.redirect(`/console/tokens?revoked=${encodeURIComponent(id)}`, 303);
  });
}
