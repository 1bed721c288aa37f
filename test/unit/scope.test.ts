import { describe, expect, it } from 'vitest';
import {
  campaignView,
  canManage,
  canManageCampaign,
  canRead,
  viewIncludes,
  type Principal,
  type Role,
} from '../../src/domain/scope.ts';

// A province with two districts, each with a commune: /P/, /P/D1/, /P/D1/C1/, /P/D2/, /P/D2/C2/.
const PATH = { P: '/P/', D1: '/P/D1/', C1: '/P/D1/C1/', D2: '/P/D2/', C2: '/P/D2/C2/' } as const;
type Place = keyof typeof PATH;
const at = (role: Role, place: Place): Principal => ({ role, root: { unitId: place, path: PATH[place] } });
const campaignOf = (issuer: Place) => ({ issuerUnitId: issuer, issuerPath: PATH[issuer] });
const TOKEN: Principal = { role: 'admin', root: null };

describe('campaignView', () => {
  it.each<[string, Principal, Place, boolean, ReturnType<typeof campaignView>]>([
    ['the break-glass token sees every campaign whole', TOKEN, 'D2', false, { kind: 'whole' }],
    ['an admin of the issuer sees it whole', at('admin', 'D1'), 'D1', true, { kind: 'whole' }],
    ['an admin above the issuer sees it whole', at('admin', 'P'), 'D1', false, { kind: 'whole' }],
    [
      'an admin below the issuer sees their subtree when a participant is there',
      at('admin', 'C1'),
      'D1',
      true,
      { kind: 'subtree', unitId: 'C1', path: PATH.C1 },
    ],
    ['an admin below the issuer with no participant sees nothing', at('admin', 'C1'), 'D1', false, null],
    [
      'a leader of the issuer sees their subtree',
      at('leader', 'D1'),
      'D1',
      false,
      { kind: 'subtree', unitId: 'D1', path: PATH.D1 },
    ],
    [
      'a leader with a participant below sees their subtree',
      at('leader', 'D2'),
      'P',
      true,
      { kind: 'subtree', unitId: 'D2', path: PATH.D2 },
    ],
    ['a leader of another district sees nothing', at('leader', 'D2'), 'D1', false, null],
    ['a focal official sees no summary', at('focal', 'D1'), 'D1', true, null],
    ['a member sees no summary', at('member', 'P'), 'P', true, null],
  ])('%s', (_name, principal, issuer, participant, expected) => {
    expect(campaignView(principal, campaignOf(issuer), participant)).toEqual(expected);
  });
});

describe('reading and managing', () => {
  it.each<[Principal, Place, boolean, boolean]>([
    [at('admin', 'D1'), 'D1', true, true],
    [at('admin', 'D1'), 'C1', true, true],
    [at('admin', 'D1'), 'P', false, false],
    [at('admin', 'D1'), 'C2', false, false],
    [at('leader', 'D1'), 'C1', true, false],
    [at('leader', 'D1'), 'D2', false, false],
    [at('focal', 'D1'), 'C1', false, false],
    [at('member', 'P'), 'C1', false, false],
    [TOKEN, 'C2', true, true],
  ])('%o on %s: read %s, manage %s', (principal, place, read, manage) => {
    expect(canRead(principal, PATH[place])).toBe(read);
    expect(canManage(principal, PATH[place])).toBe(manage);
  });

  it('a campaign is managed by the admins of its issuer and above, never by its participants', () => {
    expect(canManageCampaign(at('admin', 'D1'), campaignOf('D1'))).toBe(true);
    expect(canManageCampaign(at('admin', 'P'), campaignOf('D1'))).toBe(true);
    expect(canManageCampaign(at('admin', 'C1'), campaignOf('D1'))).toBe(false);
    expect(canManageCampaign(at('leader', 'D1'), campaignOf('D1'))).toBe(false);
    expect(canManageCampaign(TOKEN, campaignOf('C2'))).toBe(true);
  });

  it('a subtree view includes its own units only; a whole view every unit', () => {
    const view = campaignView(at('leader', 'D1'), campaignOf('P'), true);
    expect(view).not.toBeNull();
    if (!view) return;
    expect(viewIncludes(view, PATH.C1)).toBe(true);
    expect(viewIncludes(view, PATH.C2)).toBe(false);
    // A sibling whose path merely starts with the same letters is not inside.
    expect(viewIncludes({ kind: 'subtree', unitId: 'D1', path: '/P/D1/' }, '/P/D10/')).toBe(false);
    expect(viewIncludes({ kind: 'whole' }, PATH.C2)).toBe(true);
  });
});
