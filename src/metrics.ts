import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  updatesReceived: Counter<'channel' | 'kind'>;
  messagesSent: Counter<'channel'>;
  messagesFailed: Counter<'channel' | 'reason'>;
  rateLimited: Counter<'channel'>;
  quotaExhausted: Counter<'channel'>;
  messagesRetried: Counter<'channel'>;
  queueDepth: Gauge<'queue' | 'state'>;
  queueOldestSeconds: Gauge<'queue'>;
  outboxMessages: Gauge<'channel' | 'state'>;
  outboxOldestPendingSeconds: Gauge<'channel'>;
  remindersSent: Gauge<'kind'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  dialogueEngineFallbacks: Counter<'route'>;
  webhookUpdatesProcessed: Counter<'channel'>;
  webhookUpdatesFailed: Counter<'channel'>;
  webhookInbox: Gauge<'channel' | 'state'>;
  webhookInboxOldestSeconds: Gauge<'channel'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    updatesReceived: new Counter({
      name: 'thidua_updates_received_total',
      help: 'Inbound chat updates by channel and kind',
      labelNames: ['channel', 'kind'],
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: 'thidua_messages_sent_total',
      help: 'Messages delivered by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    messagesFailed: new Counter({
      name: 'thidua_messages_failed_total',
      help: 'Failed send attempts by channel and kind of failure',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'thidua_messages_rate_limited_total',
      help: '429 answers by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    quotaExhausted: new Counter({
      name: 'thidua_messages_quota_exhausted_total',
      help: "Sends refused because the platform's message quota is used up (Zalo Bot Platform: 429)",
      labelNames: ['channel'],
      registers: [registry],
    }),
    messagesRetried: new Counter({
      name: 'thidua_messages_retried_total',
      help: 'Sends that failed in a way worth retrying (network, 5xx) and were retried, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    queueOldestSeconds: new Gauge({
      name: 'thidua_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue',
      labelNames: ['queue'],
      registers: [registry],
    }),
    outboxMessages: new Gauge({
      name: 'thidua_outbox_messages',
      help: 'Outbox rows by channel and state (from PostgreSQL: the same for every instance)',
      labelNames: ['channel', 'state'],
      registers: [registry],
    }),
    outboxOldestPendingSeconds: new Gauge({
      name: 'thidua_outbox_oldest_pending_seconds',
      help: 'Age of the oldest message not yet delivered, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    remindersSent: new Gauge({
      name: 'thidua_reminders_sent',
      help: 'Reminders, escalations and other chasing messages sent so far, by kind (from PostgreSQL)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'thidua_queue_jobs',
      help: 'Jobs in the delivery queues by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'thidua_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    dialogueEngineFallbacks: new Counter({
      name: 'thidua_dialogue_engine_fallbacks_total',
      help: 'Dialogue turns of a raw-SQL route that needed Prisma after all and ran again through it, by route',
      labelNames: ['route'],
      registers: [registry],
    }),
    webhookUpdatesProcessed: new Counter({
      name: 'thidua_webhook_updates_processed_total',
      help: 'Recorded webhook updates handled by this process, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    webhookUpdatesFailed: new Counter({
      name: 'thidua_webhook_updates_failed_total',
      help: 'Failed attempts at recorded webhook updates in this process (each is tried again), by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    webhookInbox: new Gauge({
      name: 'thidua_webhook_inbox',
      help: 'Webhook updates recorded and not handled yet, by channel and state (waiting; given_up: left for an operator)',
      labelNames: ['channel', 'state'],
      registers: [registry],
    }),
    webhookInboxOldestSeconds: new Gauge({
      name: 'thidua_webhook_inbox_oldest_seconds',
      help: 'Age of the oldest webhook update not handled yet, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
  };
}
