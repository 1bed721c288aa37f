import { describe, expect, it } from 'vitest';
import type { TurnTransaction } from '../../src/conversation/engine.ts';
import type { InboundEvent } from '../../src/conversation/events.ts';
import { Renderer } from '../../src/conversation/render.ts';
import { prisma, raw, Router } from '../../src/conversation/router.ts';
import { dialogueRoutes } from '../../src/conversation/routes.ts';
import { requireLinked, requireRole, Turn, type Member } from '../../src/conversation/turn.ts';
import { NeedsPrisma } from '../../src/db/raw-transactions.ts';
import { isSupervisor } from '../../src/domain/scope.ts';
import { createTranslator } from '../../src/i18n.ts';
import type { LinkAttempts } from '../../src/services/ports.ts';
import { LINK_ATTEMPT_LIMITS } from '../../src/throttle.ts';
import { TEST_LINK_CODE_KEYS } from '../support/link-codes.ts';

/**
 * The dialogue's router: which route takes an event (decided from the event alone, before any transaction,
 * so that the route can choose the engine), in what order the steps of a route run, and the guards.
 */
const render = new Renderer(createTranslator(), 'Asia/Ho_Chi_Minh');
const TASK = '01234567-89ab-4def-8123-456789abcdef';
const CAMPAIGN = '0190f0f0-1234-7abc-8def-0123456789ab';

/** Routing counts no attempt: only a link route's steps do. */
const unusedAttempts: LinkAttempts = {
  attempt: () => Promise.reject(new Error('routing counts nothing')),
  linked: () => Promise.reject(new Error('routing counts nothing')),
  limits: LINK_ATTEMPT_LIMITS,
};

/** An event that names itself in test titles as a person would see it. */
const event = (fields: Partial<InboundEvent> & Pick<InboundEvent, 'kind'>): InboundEvent => {
  const made = { channel: 'telegram', updateId: 'u1', chatId: '42', ...fields } as InboundEvent;
  const shown =
    made.kind === 'command'
      ? `/${made.command} ${made.args}`.trim()
      : made.kind === 'text'
        ? `"${made.text}"`
        : made.kind === 'choice'
          ? `the button ${made.data}`
          : `a ${made.kind}`;
  return Object.defineProperty(made, 'toString', { value: () => shown, enumerable: false });
};
const command = (name: string, args = '') => event({ kind: 'command', command: name, args });
const text = (words: string) => event({ kind: 'text', text: words });
const press = (data: string) => event({ kind: 'choice', data });

describe('the route table', () => {
  const routes = dialogueRoutes({
    linkAttempts: unusedAttempts,
    linkCodeKeys: TEST_LINK_CODE_KEYS,
    numberedChoiceChannels: new Set(['zalo']),
  });
  const routeOf = (input: InboundEvent) => {
    const { name, engine } = routes.match(input);
    return `${name} (${engine})`;
  };

  it.each([
    [command('start', 'ABCD-EFGH-JK'), 'link (prisma)'],
    [command('START', '  '), 'welcome (raw)'],
    [command('start'), 'welcome (raw)'],
    [command('baocao'), 'report (raw)'],
    [command('Report'), 'report (raw)'],
    [command('nhiemvu'), 'tasks (raw)'],
    [command('tonghop', '01/KH-UBND'), 'summary (prisma)'],
    [command('ngonngu'), 'language (raw)'],
    [command('huongdan'), 'help (raw)'],
    [command('diemhinh', 'Nguyễn Văn A – trồng rừng'), 'exemplar (prisma)'],
    [command('huy'), 'cancel (raw)'],
    [command('xoa'), 'unknown-command (raw)'],
    [press(`st:${TASK}:d`), 'status-button (raw)'],
    [press(`pr:${TASK}:1`), 'which-task-button (raw)'],
    [press(`pa:${TASK}`), 'all-tasks-button (raw)'],
    [press(`undo:${TASK}`), 'undo-button (prisma)'],
    [press(`ug:${TASK}`), 'undo-group-button (prisma)'],
    [press(`ack:${CAMPAIGN}`), 'launch-button (prisma)'],
    [press(`reg:${CAMPAIGN}`), 'launch-button (prisma)'],
    [press('lang:en'), 'language-button (raw)'],
    [press(`sd:${CAMPAIGN}:TD`), 'summary-button (prisma)'],
    [press(`bs:AZDw8BI0eryN7wEjRWeJqw:-:CUM1`), 'summary-button (prisma)'],
    [press(`exu:${TASK}`), 'exemplar-button (prisma)'],
    [press(`st:${TASK}:z`), 'stale-button (raw)'],
    [press('anything at all'), 'stale-button (raw)'],
    [text('ABCD EFGH JK'), 'link-code (prisma)'],
    [text('tổng hợp khối CUM1'), 'summary-text (prisma)'],
    [text('điển hình Nguyễn Văn A – trồng rừng'), 'exemplar-text (prisma)'],
    [text('đã xong'), 'status-text (raw)'],
    [text('nv2 đang triển khai 60%'), 'status-text (raw)'],
    [text('NV1 xong, NV2 được 50%, NV3 vướng kinh phí'), 'status-text (raw)'],
    [text('👍'), 'status-text (raw)'],
    [text('1'), 'status-text (raw)'],
    [event({ kind: 'photo', ref: 'file-1' }), 'photo (prisma)'],
    [event({ kind: 'unsupported', what: 'sticker' }), 'unsupported (raw)'],
  ] as const)('%s goes to %s', (input, expected) => {
    expect(routeOf(input)).toBe(expected);
  });
  it('sends anything from a group chat to the group-chat route first, a link code and a button included', () => {
    const inGroup = (fields: Partial<InboundEvent> & Pick<InboundEvent, 'kind'>) =>
      event({ chatId: '-42', chatKind: 'group', senderId: '501', ...fields });
    for (const input of [
      inGroup({ kind: 'command', command: 'start', args: 'ABCD-EFGH-JK' }),
      inGroup({ kind: 'text', text: 'ABCDEFGHJK' }),
      inGroup({ kind: 'text', text: 'đã xong' }),
      inGroup({ kind: 'choice', data: `ack:${CAMPAIGN}` }),
      inGroup({ kind: 'photo', ref: 'file-1' }),
      inGroup({ kind: 'unsupported', what: 'added to a group' }),
    ])
      expect(routeOf(input)).toBe('group-chat (raw)');
    expect(
      routeOf(event({ kind: 'command', command: 'start', args: 'ABCD-EFGH-JK', chatKind: 'private' })),
    ).toBe('link (prisma)');
  });
});

/** A turn that needs no database: the steps under test only read and answer. */
function turnOf(input: InboundEvent, member: Member | null, engine: 'raw' | 'prisma' = 'prisma') {
  const tx: TurnTransaction = {
    engine,
    get sql(): never {
      throw new Error('these steps use no database');
    },
    prisma: (why) => {
      if (engine === 'raw') throw new NeedsPrisma(why);
      throw new Error('these steps use no database');
    },
  };
  const account = member ? { id: 'account-1', active: true, official: member } : null;
  return new Turn(
    tx,
    input,
    new Date('2026-07-01T02:00:00Z'),
    account,
    { exemplarDraft: null, tasks: null },
    render,
    'Asia/Ho_Chi_Minh',
  );
}

const member = (role: Member['role']): Member => ({
  id: 'official-1',
  code: 'CB1',
  name: 'Lò Văn Minh',
  unitId: 'unit-1',
  role,
  phone: null,
  locale: 'vi',
  preferredChannel: null,
  digestWeekday: 1,
  digestTime: '08:00',
  active: true,
  deactivatedAt: null,
  erasedAt: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  unit: {
    id: 'unit-1',
    code: 'X1',
    name: 'UBND xã Một',
    kind: null,
    parentId: null,
    retiredAt: null,
    successorId: null,
    path: '/unit-1/',
    blockCodes: [],
    createdAt: new Date(0),
    updatedAt: new Date(0),
  },
});

const texts = (turn: Turn) => turn.replies.map((reply) => reply.text);
const t = (key: string) => render.text('vi', key).text;

describe('a router', () => {
  it('gives an event to the first route that matches, and runs its steps in order while they call next', async () => {
    const ran: string[] = [];
    const router = new Router()
      .command(
        ['a'],
        raw('first'),
        async (_turn, next) => {
          ran.push('first: guard');
          await next();
        },
        () => {
          ran.push('first: handler');
        },
        () => {
          ran.push('never: the handler did not call next');
        },
      )
      .command(['a', 'b'], raw('second'), () => {
        ran.push('second');
      })
      .command('any', prisma('rest'), () => {
        ran.push('rest');
      });
    for (const name of ['a', 'b', 'c']) await router.match(command(name)).run(turnOf(command(name), null));
    expect(ran).toEqual(['first: guard', 'first: handler', 'second', 'rest']);
    expect(router.routes).toEqual([
      { name: 'first', engine: 'raw' },
      { name: 'second', engine: 'raw' },
      { name: 'rest', engine: 'prisma' },
    ]);
  });

  it('refuses a table that names a route twice, and an event no route takes', () => {
    expect(() => new Router().command(['a'], raw('x')).command(['b'], raw('x'))).toThrow(/defined twice/);
    expect(() => new Router().command(['a'], raw('x')).match(text('hello'))).toThrow(/no route/);
  });

  it('hands a callback route its decoded button, and runs it for a button chosen by number', async () => {
    const seen: unknown[] = [];
    const router = new Router()
      .callback(['status'], raw('status'), (turn) => {
        seen.push(turn.button);
      })
      .callback(['undo'], prisma('undo'), () => {
        seen.push('undo');
      })
      .callback(['stale'], raw('stale'), (turn) => {
        seen.push(turn.button);
      })
      .text(
        () => true,
        raw('text'),
        (turn) => router.press(turn, turn.event.text),
      );
    await router.match(press(`st:${TASK}:b`)).run(turnOf(press(`st:${TASK}:b`), null));
    const typed = text(`st:${TASK}:n`);
    await router.match(typed).run(turnOf(typed, null, 'raw'));
    const garbage = text('st:nope');
    await router.match(garbage).run(turnOf(garbage, null, 'raw'));
    expect(seen).toEqual([
      { kind: 'status', taskId: TASK, status: 'blocked' },
      { kind: 'status', taskId: TASK, status: 'not_started' },
      { kind: 'stale' },
    ]);
    // A route that needs Prisma, reached inside a turn on the raw engine: a miss, before it runs.
    const undo = text(`undo:${TASK}`);
    await expect(router.match(undo).run(turnOf(undo, null, 'raw'))).rejects.toBeInstanceOf(NeedsPrisma);
    expect(seen).toHaveLength(3);
    await router.match(undo).run(turnOf(undo, null, 'prisma'));
    expect(seen).toHaveLength(4);
  });
});

describe('guards', () => {
  const ran: string[] = [];
  const router = new Router()
    .command(
      ['tonghop'],
      raw('summary'),
      requireLinked(
        (_turn, next) => {
          ran.push('linked');
          return next();
        },
        requireRole(isSupervisor, 'summary.refused', (turn) => {
          ran.push(`summary for ${turn.member.role}`);
        }),
      ),
    )
    .command('any', raw('other'), (turn) => turn.reply('unknownCommand'));

  it('requireLinked: a chat nobody is linked to is told how to link, and nothing else runs', async () => {
    ran.length = 0;
    const turn = turnOf(command('tonghop'), null);
    await router.match(turn.event).run(turn);
    expect(texts(turn)).toEqual([t('link.unlinked')]);
    expect(ran).toEqual([]);
  });

  it('requireRole: a member gets the refusal; a leader and an admin go through', async () => {
    ran.length = 0;
    const refused = turnOf(command('tonghop'), member('member'));
    await router.match(refused.event).run(refused);
    expect(texts(refused)).toEqual([t('summary.refused')]);
    for (const role of ['leader', 'admin'] as const) {
      const turn = turnOf(command('tonghop'), member(role));
      await router.match(turn.event).run(turn);
      expect(texts(turn)).toEqual([]);
    }
    expect(ran).toEqual(['linked', 'linked', 'summary for leader', 'linked', 'summary for admin']);
  });
});
