// Who may translate, and how often: optional API keys (LibreTranslate's `api_key` field; 403
// "Invalid API key" when keys are configured and the key is missing or unknown) and a per-key
// rate limit (per client address when no keys are configured) over a fixed one-minute window.
import { UserError } from '../util/errors.js';

export class AccessControl {
  private readonly keys: Set<string>;
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    apiKeys: readonly string[],
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = new Set(apiKeys);
  }

  get keysRequired(): boolean {
    return this.keys.size > 0;
  }

  /** Throws 403 for a missing/unknown key (when keys are configured), 429 over the rate limit. */
  check(apiKey: string | undefined, clientAddress: string): void {
    if (this.keys.size > 0 && (apiKey === undefined || !this.keys.has(apiKey))) {
      throw new UserError(
        apiKey === undefined || apiKey === '' ? 'Invalid API key: this server needs an api_key' : 'Invalid API key',
        'unauthorized',
      );
    }
    if (this.perMinute === 0) return;
    const t = this.now();
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t;
      this.counts.clear();
    }
    const who = this.keys.size > 0 ? `key:${apiKey}` : `ip:${clientAddress}`;
    const n = (this.counts.get(who) ?? 0) + 1;
    this.counts.set(who, n);
    if (n > this.perMinute) {
      const retry = Math.max(1, Math.ceil((this.windowStart + 60_000 - t) / 1000));
      throw new UserError(`rate limit of ${this.perMinute} requests per minute reached; retry in ${retry} s`, 'rate_limited', {
        'Retry-After': String(retry),
      });
    }
  }
}
