import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/client.ts';
import { isWithin, unitPath } from '../domain/unit-tree.ts';
import { DomainError, notFound } from './errors.ts';

export interface UnitInput {
  name: string;
  parentCode?: string | null | undefined;
  kind?: string | null | undefined;
  blockCodes?: string[] | undefined;
}

export interface UnitView {
  code: string;
  name: string;
  parentCode: string | null;
  kind: string | null;
  blockCodes: string[];
}

/** Creates or updates a unit by its code; moving it carries its whole subtree along. */
export async function upsertUnit(db: Db, code: string, input: UnitInput): Promise<UnitView> {
  return db.$transaction(async (tx) => {
    // Serialise tree changes: a move and a concurrent move under it could otherwise form a cycle.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('unit-tree'))`;
    const existing = await tx.unit.findUnique({ where: { code } });
    const parent = input.parentCode ? await tx.unit.findUnique({ where: { code: input.parentCode } }) : null;
    if (input.parentCode && !parent) {
      throw new DomainError('unknown_parent', `parent unit ${input.parentCode} does not exist`, {
        parentCode: input.parentCode,
      });
    }
    if (existing && parent && isWithin(parent.path, existing.path)) {
      throw new DomainError('cycle', `unit ${code} cannot be placed under itself or its own descendant`, {
        parentCode: input.parentCode,
      });
    }
    const id = existing?.id ?? randomUUID();
    const path = unitPath(parent?.path ?? null, id);
    const data = {
      name: input.name,
      kind: input.kind ?? null,
      blockCodes: input.blockCodes ?? existing?.blockCodes ?? [],
      parentId: parent?.id ?? null,
      path,
    };
    if (!existing) {
      await tx.unit.create({ data: { id, code, ...data } });
    } else {
      await tx.unit.update({ where: { id }, data });
      if (existing.path !== path) {
        await tx.$executeRaw`
          UPDATE "Unit" SET path = ${path}::text || substring(path FROM ${existing.path.length + 1}::int)
          WHERE path LIKE ${existing.path + '%'} AND id <> ${id}::uuid`;
      }
    }
    return {
      code,
      name: data.name,
      parentCode: parent?.code ?? null,
      kind: data.kind,
      blockCodes: data.blockCodes,
    };
  });
}

export async function getUnit(db: Queryable, code: string): Promise<UnitView> {
  const unit = await db.unit.findUnique({ where: { code }, include: { parent: { select: { code: true } } } });
  if (!unit) throw notFound('unit', code);
  return {
    code: unit.code,
    name: unit.name,
    parentCode: unit.parent?.code ?? null,
    kind: unit.kind,
    blockCodes: unit.blockCodes,
  };
}
