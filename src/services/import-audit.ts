import type { ExistingOfficial, ExistingUnit, ImportPlan } from '../domain/import-rows.ts';
import { fieldChanges, type AuditEntry, type Caller } from './audit.ts';
import type { UnitEventInput } from './unit-history.ts';

/** What the database held before the import. */
type Stored = { units: ExistingUnit[]; officials: ExistingOfficial[] };

/**
 * One audit row per unit and official the import created or changed (units that only moved along with a
 * moved ancestor are not rows of the file and get none). Phone numbers stay out: only whether one was set,
 * changed or removed.
 */
export function importAudit(
  plan: ImportPlan,
  stored: Stored,
  createdOfficialIds: string[],
  caller: Caller,
): AuditEntry[] {
  const unitById = new Map(stored.units.map((unit) => [unit.id, unit]));
  const unitCodeById = new Map<string, string>(stored.units.map((unit) => [unit.id, unit.code]));
  for (const unit of plan.createUnits) unitCodeById.set(unit.id, unit.code);
  const parentCode = (parentId: string | null) => (parentId ? (unitCodeById.get(parentId) ?? null) : null);
  const entry = (
    action: string,
    target: { kind: string; id: string; code: string },
    unitId: string,
    changes: Record<string, unknown>,
  ): AuditEntry => ({ actor: caller.actor, action, target, unitId, changes: { ...changes, via: 'import' } });
  const entries: AuditEntry[] = [];
  for (const unit of plan.createUnits)
    entries.push(
      entry('unit.create', { kind: 'unit', id: unit.id, code: unit.code }, unit.id, {
        name: unit.name,
        parentCode: parentCode(unit.parentId),
        blockCodes: unit.blockCodes,
      }),
    );
  for (const unit of plan.updateUnits) {
    const before = unitById.get(unit.id);
    if (!before) continue;
    const changes = fieldChanges(
      { name: before.name, parentCode: parentCode(before.parentId), blockCodes: before.blockCodes },
      { name: unit.name, parentCode: parentCode(unit.parentId), blockCodes: unit.blockCodes },
      ['name', 'parentCode', 'blockCodes'],
    );
    if (changes)
      entries.push(entry('unit.update', { kind: 'unit', id: unit.id, code: unit.code }, unit.id, changes));
  }
  plan.createOfficials.forEach((official, index) => {
    const id = createdOfficialIds[index] ?? '';
    entries.push(
      entry('official.create', { kind: 'official', id, code: official.code }, official.unitId, {
        name: official.name,
        unitCode: unitCodeById.get(official.unitId) ?? null,
        role: official.role,
        ...(official.phone ? { phone: 'set' } : {}),
      }),
    );
  });
  const officialById = new Map(stored.officials.map((official) => [official.id, official]));
  for (const official of plan.updateOfficials) {
    const before = official.id ? officialById.get(official.id) : undefined;
    if (!before || !official.id) continue;
    const changes: Record<string, unknown> = {
      ...fieldChanges(
        { name: before.name, unitCode: unitCodeById.get(before.unitId) ?? null, role: before.role },
        { name: official.name, unitCode: unitCodeById.get(official.unitId) ?? null, role: official.role },
        ['name', 'unitCode', 'role'],
      ),
    };
    if (before.phone !== official.phone)
      changes.phone = official.phone === null ? 'removed' : before.phone === null ? 'set' : 'changed';
    entries.push(
      entry(
        'official.update',
        { kind: 'official', id: official.id, code: official.code },
        official.unitId,
        changes,
      ),
    );
  }
  return entries;
}

/**
 * The units' history of an import: each unit of the file created, renamed or moved (units that only moved
 * along with a moved ancestor keep their parent, and have no event).
 */
export function importHistory(plan: ImportPlan, stored: ExistingUnit[]): UnitEventInput[] {
  const before = new Map(stored.map((unit) => [unit.id, unit]));
  const codeById = new Map<string, string>(stored.map((unit) => [unit.id, unit.code]));
  for (const unit of plan.createUnits) codeById.set(unit.id, unit.code);
  const codeOf = (id: string | null) => (id ? (codeById.get(id) ?? null) : null);
  const events: UnitEventInput[] = plan.createUnits.map((unit) => ({
    unitId: unit.id,
    kind: 'created',
    to: unit.name,
    relatedUnitId: unit.parentId,
  }));
  for (const unit of plan.updateUnits) {
    const was = before.get(unit.id);
    if (!was) continue;
    if (was.name !== unit.name)
      events.push({ unitId: unit.id, kind: 'renamed', from: was.name, to: unit.name });
    if (was.parentId !== unit.parentId)
      events.push({
        unitId: unit.id,
        kind: 'moved',
        from: codeOf(was.parentId),
        to: codeOf(unit.parentId),
        relatedUnitId: unit.parentId,
      });
  }
  return events;
}
