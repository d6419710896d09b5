// WebSocket /translate/stream (protocol in src/server/README.md): each message is a request
// {id, q, source, target, format?, beam_size?, n_best?, …} or a cancel {id, cancel: true}.
// Requests go through the same plan, sentence splitting and batcher queue as POST /translate
// (never the cache: the beams are the point); the server sends {id, sentences} (the units q was
// cut into), then {id, sentence, step, beams} for every decoding step of every sentence, and ends
// with {id, done: true, translations} (or {id, cancelled: true}, or {id, error}). Several
// requests may be in flight per socket. A bad message gets {id?, error} and the socket stays open.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { decodeUtf8 } from './body.js';
import { formatIssues } from './config.js';
import type { ServerContext } from './context.js';
import { UserError } from '../util/errors.js';
import { abortReasonToError, CancelledError, errorAnswer } from './errors.js';
import { resolveAutoSource } from './auto-source.js';
import { checkReady, checkTexts, planTranslation } from './plan.js';
import { StreamCancelSchema, type StreamId, type StreamMessage, StreamRequestSchema } from './schemas/stream.js';
import { translateTexts } from './translate-texts.js';

export const STREAM_PATH = '/translate/stream';
/** Step messages are skipped (never the final one) while a slow client has this much unsent. */
const MAX_BUFFERED_STEPS = 1 << 20;
/** Hard cap of a frame; between wsMaxMessageBytes and this the client gets an error message. */
const HARD_MAX_PAYLOAD = 4 << 20;

export class StreamServer {
  readonly wss: WebSocketServer;
  /** Requests being handled (close() waits for them). */
  private readonly handling = new Set<Promise<void>>();

  constructor(private readonly ctx: ServerContext) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(HARD_MAX_PAYLOAD, ctx.settings.wsMaxMessageBytes) });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  /** Routes upgrade requests of `server` on STREAM_PATH here; other paths get 404. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path !== STREAM_PATH || this.ctx.state.shuttingDown) {
        socket.end(
          `HTTP/1.1 ${path !== STREAM_PATH ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
  }

  /** Closes every socket (1001 going away) once the requests being handled have sent their last message. */
  async close(): Promise<void> {
    // requests already accepted finish first: their last message is sent before the socket closes
    await Promise.allSettled([...this.handling]);
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const { ctx } = this;
    ctx.metrics.wsConnections.inc();
    const inFlight = new Map<StreamId, AbortController>();
    const address = req.socket.remoteAddress ?? 'unknown';
    const queryKey = new URL(req.url ?? '/', 'http://x').searchParams.get('api_key') ?? undefined;
    const send = (m: StreamMessage) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // Step messages are progress: skip them for a client that does not keep up.
      if ('step' in m && ws.bufferedAmount > MAX_BUFFERED_STEPS) return;
      ws.send(JSON.stringify(m));
    };
    const fail = (id: StreamId | undefined, e: unknown) => {
      const a = errorAnswer(e);
      ctx.metrics.errors.inc({ kind: a.kind });
      if (a.internal) ctx.log(`[serve] ws ${address} request ${JSON.stringify(id)}: ${(e as Error)?.stack ?? String(e)}`);
      send(id === undefined ? { error: a.message, status: a.status } : { id, error: a.message, status: a.status });
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      let raw: unknown;
      try {
        if (bytes.length > ctx.settings.wsMaxMessageBytes) {
          throw new UserError(
            `message has ${bytes.length} bytes; the limit is wsMaxMessageBytes ${ctx.settings.wsMaxMessageBytes}`,
            'too_large',
          );
        }
        const text = decodeUtf8(bytes, isBinary ? 'binary message' : 'message');
        try {
          raw = JSON.parse(text);
        } catch (e) {
          throw new UserError(`message is not valid JSON: ${(e as Error).message}`, 'invalid_request');
        }
      } catch (e) {
        ctx.metrics.wsMessages.inc({ type: 'invalid' });
        return fail(undefined, e);
      }
      // The id, if any, so that errors can be matched to the request.
      const idGuess = raw !== null && typeof raw === 'object' && 'id' in raw ? (raw as { id: unknown }).id : undefined;
      const id = typeof idGuess === 'string' || (typeof idGuess === 'number' && Number.isSafeInteger(idGuess)) ? idGuess : undefined;
      if (raw !== null && typeof raw === 'object' && 'cancel' in raw) {
        ctx.metrics.wsMessages.inc({ type: 'cancel' });
        const c = StreamCancelSchema.safeParse(raw);
        if (!c.success) return fail(id, new UserError(formatIssues(c.error), 'invalid_request'));
        const ctrl = inFlight.get(c.data.id);
        if (!ctrl)
          return fail(
            c.data.id,
            new UserError(`no request with id ${JSON.stringify(c.data.id)} is in flight on this socket`, 'invalid_request'),
          );
        ctrl.abort(new CancelledError(`request ${JSON.stringify(c.data.id)}`));
        return;
      }
      ctx.metrics.wsMessages.inc({ type: 'request' });
      const p = StreamRequestSchema.safeParse(raw);
      if (!p.success) return fail(id, new UserError(formatIssues(p.error), 'invalid_request'));
      const handled = this.handleRequest(p.data, inFlight, send, fail, queryKey, address);
      this.handling.add(handled);
      void handled.finally(() => this.handling.delete(handled));
    });
    ws.on('close', () => {
      ctx.metrics.wsConnections.dec();
      for (const c of inFlight.values()) c.abort(new CancelledError('socket closed'));
      inFlight.clear();
    });
    ws.on('error', (e) => ctx.log(`[serve] ws ${address}: ${e.message}`));
  }

  private async handleRequest(
    m: ReturnType<typeof StreamRequestSchema.parse>,
    inFlight: Map<StreamId, AbortController>,
    send: (m: StreamMessage) => void,
    fail: (id: StreamId | undefined, e: unknown) => void,
    queryKey: string | undefined,
    address: string,
  ): Promise<void> {
    const { ctx } = this;
    const { id } = m;
    const ctrl = new AbortController();
    const signal = AbortSignal.any([ctrl.signal, AbortSignal.timeout(ctx.settings.requestTimeoutMs)]);
    try {
      if (inFlight.has(id))
        throw new UserError(`id ${JSON.stringify(id)} is already in flight on this socket; use a new id per request`, 'invalid_request');
      if (inFlight.size >= ctx.settings.wsMaxInFlight)
        throw new UserError(
          `${inFlight.size} requests in flight on this socket; the limit is wsMaxInFlight ${ctx.settings.wsMaxInFlight}`,
          'queue_full',
        );
      if (ctx.state.shuttingDown) throw new UserError('the server is shutting down', 'unavailable');
      ctx.access.check(m.api_key ?? queryKey, address);
      checkReady(ctx.registry);
      checkTexts([m.q], ctx.settings);
      inFlight.set(id, ctrl);
      const detected = m.source === 'auto' ? (await resolveAutoSource(ctx, [m.q], m.target, ['q']))[0] : undefined;
      const source = detected?.language ?? m.source;
      if (detected !== undefined && source === m.target) {
        // already in the target language: nothing to decode
        send({ id, sentences: [], detectedLanguage: detected });
        send({ id, done: true, translations: [{ text: m.q, score: 0 }], detectedLanguage: detected });
        return;
      }
      const plan = planTranslation({ ...m, source }, ctx.registry, ctx.settings);
      const [hyps] = await translateTexts(ctx, plan, [m.q], {
        format: m.format,
        cache: false,
        signal,
        onUnits: (_t, units) => send(detected ? { id, sentences: units, detectedLanguage: detected } : { id, sentences: units }),
        onStep: (_t, sentence, e) =>
          send({ id, sentence, step: e.step, beams: e.beams.map((b) => ({ text: b.text, tokens: b.tokens, score: b.score })) }),
      });
      const translations = hyps!.map((x) => ({ text: x.text, score: x.score }));
      send(detected ? { id, done: true, translations, detectedLanguage: detected } : { id, done: true, translations });
    } catch (e) {
      if (signal.aborted && e === signal.reason) {
        const err = abortReasonToError(e, ctx.settings.requestTimeoutMs);
        if (err instanceof CancelledError) send({ id, cancelled: true });
        else fail(id, err);
      } else fail(id, e);
    } finally {
      if (inFlight.get(id) === ctrl) inFlight.delete(id);
    }
  }
}
