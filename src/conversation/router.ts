import { decodeButton, type ButtonKind, type DecodedButton } from './buttons.ts';
import type { Engine } from './engine.ts';
import type { InboundEvent } from './events.ts';
import type { ButtonTurn, Turn } from './turn.ts';

export type Next = () => Promise<void>;

/**
 * One step of a route, as in grammY's Composer: it acts on the turn and calls `next()` to let the steps
 * after it run (a guard that refuses simply does not). A handler is a step that never calls it.
 */
export type Middleware<C> = (turn: C, next: Next) => Promise<void> | void;

/** Steps run one after another, each deciding whether the rest runs. */
export function compose<C>(steps: readonly Middleware<C>[]): Middleware<C> {
  return async (turn, next) => {
    const run = async (index: number): Promise<void> => {
      const step = steps[index];
      if (!step) return next();
      await step(turn, () => run(index + 1));
    };
    await run(0);
  };
}

export type CommandEvent = Extract<InboundEvent, { kind: 'command' }>;
export type TextEvent = Extract<InboundEvent, { kind: 'text' }>;
export type PhotoEvent = Extract<InboundEvent, { kind: 'photo' }>;

/** A route's name (its label in logs and /metrics) and the engine its transaction runs on. */
export interface Route {
  readonly name: string;
  readonly engine: Engine;
}

export const raw = (name: string): Route => ({ name, engine: 'raw' });
export const prisma = (name: string): Route => ({ name, engine: 'prisma' });

/**
 * Commands by name (any case), Vietnamese and English alike; `withArgs` matches only with arguments (true)
 * or only without (false); 'any' matches every command.
 */
export type CommandTrigger = readonly string[] | { names: readonly string[]; withArgs: boolean } | 'any';

/** A route matched to an event, before the turn's transaction starts. */
export interface MatchedRoute extends Route {
  run(turn: Turn): Promise<void>;
}

interface Entry extends Route {
  matches(event: InboundEvent, button: DecodedButton | null): boolean;
  /** For callback routes: the buttons it answers. */
  buttons?: ReadonlySet<string>;
  steps: Middleware<Turn>;
}

const done: Next = () => Promise.resolve();

/**
 * The dialogue's routes in order of precedence: the first that matches an event takes it. Matching reads the
 * event alone (a command's name, a button's kind, what a text looks like), so the route, and with it the
 * engine, is known before the turn's transaction starts; what depends on the chat's state (linked? an open
 * exemplar report? numbered choices?) is decided by the route's steps.
 */
export class Router {
  private readonly entries: Entry[] = [];

  command(trigger: CommandTrigger, route: Route, ...steps: Middleware<Turn<CommandEvent>>[]): this {
    const { names, withArgs } =
      trigger === 'any'
        ? { names: null, withArgs: null }
        : 'withArgs' in trigger
          ? { names: new Set(trigger.names), withArgs: trigger.withArgs }
          : { names: new Set(trigger), withArgs: null };
    return this.add(route, steps as Middleware<Turn>[], {
      matches: (event) =>
        event.kind === 'command' &&
        (names === null || names.has(event.command.toLowerCase())) &&
        (withArgs === null || withArgs === (event.args.trim() !== '')),
    });
  }

  /** Buttons of these kinds ('stale': data that is no button of ours), pressed or chosen by number. */
  callback<K extends ButtonKind | 'stale'>(
    kinds: readonly K[],
    route: Route,
    ...steps: Middleware<ButtonTurn<K>>[]
  ): this {
    const buttons = new Set<string>(kinds);
    return this.add(route, steps as unknown as Middleware<Turn>[], {
      buttons,
      matches: (event, button) => event.kind === 'choice' && button !== null && buttons.has(button.kind),
    });
  }

  text(when: (text: string) => boolean, route: Route, ...steps: Middleware<Turn<TextEvent>>[]): this {
    return this.add(route, steps as Middleware<Turn>[], {
      matches: (event) => event.kind === 'text' && when(event.text),
    });
  }

  photo(route: Route, ...steps: Middleware<Turn<PhotoEvent>>[]): this {
    return this.add(route, steps as Middleware<Turn>[], { matches: (event) => event.kind === 'photo' });
  }

  /** Whatever comes from a group chat (its adapter says so), of any kind. */
  group(route: Route, ...steps: Middleware<Turn>[]): this {
    return this.add(route, steps, { matches: (event) => event.chatKind === 'group' });
  }

  /** What no channel can make sense of (a sticker, a voice message). */
  unsupported(route: Route, ...steps: Middleware<Turn>[]): this {
    return this.add(route, steps, { matches: (event) => event.kind === 'unsupported' });
  }

  private add(route: Route, steps: Middleware<Turn>[], entry: Pick<Entry, 'matches' | 'buttons'>): this {
    if (this.entries.some((other) => other.name === route.name))
      throw new Error(`route ${route.name} is defined twice`);
    this.entries.push({ ...route, ...entry, steps: compose(steps) });
    return this;
  }

  /** The routes in order of precedence, as a table (for docs and tests). */
  get routes(): Route[] {
    return this.entries.map(({ name, engine }) => ({ name, engine }));
  }

  /** The route that takes the event. Every event has one: the table ends with routes that take anything. */
  match(event: InboundEvent): MatchedRoute {
    const button = event.kind === 'choice' ? decodeButton(event.data) : null;
    const entry = this.entries.find((candidate) => candidate.matches(event, button));
    if (!entry) throw new Error(`no route takes a ${event.kind} event`);
    return {
      name: entry.name,
      engine: entry.engine,
      run: async (turn) => {
        if (button) turn.button = button;
        await entry.steps(turn, done);
      },
    };
  }

  /**
   * A button chosen inside another route's turn (a numbered reply on a channel without buttons): the
   * callback route for the data runs on the same turn. A route that needs Prisma, reached on the raw
   * engine, is a miss: the turn runs again through Prisma.
   */
  async press(turn: Turn, data: string): Promise<void> {
    const button = decodeButton(data);
    const entry = this.entries.find((candidate) => candidate.buttons?.has(button.kind));
    if (!entry) throw new Error(`no route takes a ${button.kind} button`);
    if (entry.engine === 'prisma' && turn.engine === 'raw') turn.prisma(`${entry.name} (chosen by number)`);
    turn.button = button;
    await entry.steps(turn, done);
  }
}
