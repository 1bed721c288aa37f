import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig } from '../../src/config.ts';

/** docker-compose.yml and the Dockerfile, read as an operator's tools would read them. */
interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const APP_ROLES = { web: 'web', worker: 'worker', scheduler: 'scheduler' } as const;

/** Compose's interpolation: ${VAR:?message} must be given, ${VAR:-default} falls back. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::([?-])([^}]*))?\}/g,
    (_match, name: string, kind?: string, rest?: string) => {
      const given = env[name];
      if (given !== undefined && given !== '') return given;
      if (kind === '?') throw new Error(`${name} is required: ${rest ?? ''}`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL, Redis, one web, two workers and one scheduler', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'redis', 'scheduler', 'web', 'worker']);
    expect(compose.services.postgres?.image).toMatch(/^postgres:\d+/);
    expect(compose.services.redis?.image).toMatch(/^redis:\d+/);
    expect(compose.services.web?.deploy?.replicas ?? 1).toBe(1);
    expect(compose.services.worker?.deploy?.replicas).toBe(2);
    expect(compose.services.scheduler?.deploy?.replicas ?? 1).toBe(1);
    expect(compose.services.web?.ports).toEqual(['3000:3000']);
    expect(compose.volumes).toHaveProperty('pgdata');
  });

  it('runs Redis with maxmemory-policy noeviction', () => {
    const command = compose.services.redis?.command ?? [];
    expect(command[0]).toBe('redis-server');
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('sets only variables config.ts knows, and each role parses into a valid configuration', () => {
    for (const [name, role] of Object.entries(APP_ROLES)) {
      const service = compose.services[name];
      expect(service?.build).toBe('.');
      expect(service?.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      const environment = service?.environment ?? {};
      const unknown = Object.keys(environment).filter((key) => !ENV_VARIABLES.includes(key));
      expect(unknown, `${name} sets variables config.ts does not read`).toEqual([]);
      const shell = {
        POSTGRES_PASSWORD: 'pw',
        ADMIN_API_TOKEN: 'admin-token-0123456789',
        TELEGRAM_BOT_TOKEN: '1:abc',
      };
      const env = Object.fromEntries(
        Object.entries(environment).map(([key, value]) => [key, interpolate(String(value), shell)]),
      );
      const config = loadConfig(env);
      expect(config.role).toBe(role);
      expect(config.demo).toBe(false);
      expect(config.adminApiToken).toBe('admin-token-0123456789');
      expect(new URL(config.databaseUrl).host).toBe('postgres:5432');
      expect(new URL(config.redisUrl).host).toBe('redis:6379');
      expect(() => interpolate(environment.ADMIN_API_TOKEN ?? '', {})).toThrow(/ADMIN_API_TOKEN/);
    }
  });

  it('gives the database the same password it expects from the app', () => {
    const postgres = compose.services.postgres?.environment ?? {};
    const url = new URL(
      interpolate(compose.services.web?.environment?.DATABASE_URL ?? '', { POSTGRES_PASSWORD: 's3' }),
    );
    expect(url.username).toBe(postgres.POSTGRES_USER);
    expect(url.password).toBe(interpolate(postgres.POSTGRES_PASSWORD ?? '', { POSTGRES_PASSWORD: 's3' }));
    expect(url.pathname).toBe(`/${postgres.POSTGRES_DB ?? ''}`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  it('builds on Node 20 and starts src/main.ts with tsx, the role as its argument', () => {
    expect(dockerfile).toMatch(/^FROM node:20[\w.-]* AS build$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]');
    expect(dockerfile).toContain('CMD ["all"]');
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
