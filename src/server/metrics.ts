// Prometheus metrics of one app instance (prom-client), in a registry of its own so that several
// apps (tests, bench) never share counters: requests and latency per route, queue length, batch
// sizes, generated tokens and decoding throughput, errors by kind, WebSocket traffic, the
// translation cache.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly queueSentences: Gauge;
  readonly batchSentences: Histogram;
  readonly batchTokens: Histogram;
  readonly generatedTokens: Counter<'pair'>;
  readonly tokensPerSecond: Gauge<'pair'>;
  readonly decodeSeconds: Histogram<'pair'>;
  readonly errors: Counter<'kind'>;
  readonly wsConnections: Gauge;
  readonly wsMessages: Counter<'type'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly cacheBytes: Gauge;
  readonly sentences: Counter<'pair'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'resmlp_' });
    this.requests = new Counter({
      name: 'resmlp_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'resmlp_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.queueSentences = new Gauge({ name: 'resmlp_queue_sentences', help: 'Sentences waiting in the batching queue', registers });
    this.batchSentences = new Histogram({
      name: 'resmlp_batch_sentences',
      help: 'Sentences per generate call (batch scheduler) or per decoding step (step scheduler)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.batchTokens = new Histogram({
      name: 'resmlp_batch_source_tokens',
      help: 'Source tokens per generate call',
      buckets: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
      registers,
    });
    this.generatedTokens = new Counter({
      name: 'resmlp_generated_tokens_total',
      help: 'Output tokens of returned best hypotheses',
      labelNames: ['pair'],
      registers,
    });
    this.tokensPerSecond = new Gauge({
      name: 'resmlp_decode_tokens_per_second',
      help: 'Output tokens per second of the last generate call (batch scheduler) or finished sentence (step scheduler)',
      labelNames: ['pair'],
      registers,
    });
    this.decodeSeconds = new Histogram({
      name: 'resmlp_decode_seconds',
      help: 'Duration of generate calls (batch scheduler) or of a sentence from submission to its end (step scheduler)',
      labelNames: ['pair'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errors = new Counter({ name: 'resmlp_errors_total', help: 'Errors answered, by kind', labelNames: ['kind'], registers });
    this.wsConnections = new Gauge({ name: 'resmlp_ws_connections', help: 'Open WebSocket connections', registers });
    this.wsMessages = new Counter({
      name: 'resmlp_ws_messages_total',
      help: 'WebSocket messages received, by type',
      labelNames: ['type'],
      registers,
    });
    this.cacheHits = new Counter({ name: 'resmlp_cache_hits_total', help: 'Sentences answered from the translation cache', registers });
    this.cacheMisses = new Counter({
      name: 'resmlp_cache_misses_total',
      help: 'Sentences looked up in the translation cache and not found',
      registers,
    });
    this.cacheBytes = new Gauge({ name: 'resmlp_cache_bytes', help: 'Bytes held by the translation cache (estimate)', registers });
    this.sentences = new Counter({
      name: 'resmlp_sentences_total',
      help: 'Sentences (units after splitting texts) translated or answered from the cache',
      labelNames: ['pair'],
      registers,
    });
  }
}
