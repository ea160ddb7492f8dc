import { createHash } from 'node:crypto';
import { isNotFound, type KubeClient, type KubeObject, namespaceTerminating } from '../common/kube/client.js';
import type { Logger } from '../common/log.js';
import { collectionPath, KINDS, objectPath } from './kube/kinds.js';
import { microTime } from './leader.js';
import type { WorkloadOwner } from './resources/common.js';

/**
 * Kubernetes Events (events.k8s.io/v1) on a tenant, for `kubectl describe` and `kubectl events`.
 * Aggregated as client-go's events library does: an Event that repeats one seen within the last
 * six minutes (same tenant, type, reason and note; the note is immutable on the server) becomes a
 * series on the first Event instead of a new one. The first repeat is written at once (count 2),
 * later ones are counted in memory and written at most every `seriesFlushMs`, so a storm of
 * repeats costs a bounded number of writes. Recording is best effort: a failed Event never fails
 * a reconcile.
 */
export interface EventRecorderOptions {
  client: KubeClient;
  /** reportingInstance (the pod name). */
  instance: string;
  logger: Logger;
  seriesFlushMs?: number;
  now?: () => number;
}

const SERIES_WINDOW_MS = 6 * 60_000;

/** The API server refuses (422) an Event whose note is longer than 1 KiB: bytes of UTF-8, not characters. */
export const NOTE_MAX_BYTES = 1024;

/** `text` cut to at most `maxBytes` bytes of UTF-8, at a character boundary (never half a character). */
export function utf8Prefix(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // A continuation byte (10xxxxxx) just past the cut: the character it belongs to would be split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

interface Series {
  namespace: string;
  name: string;
  count: number;
  /** Count last written to the server. */
  written: number;
  lastAt: number;
  writtenAt: number;
}

export class EventRecorder {
  private readonly options: Required<EventRecorderOptions>;
  private readonly series = new Map<string, Series>();
  private flushTimer: NodeJS.Timeout | undefined;
  private sweptAt = 0;

  constructor(options: EventRecorderOptions) {
    this.options = { seriesFlushMs: 30_000, now: Date.now, ...options };
  }

  async record(
    tenant: WorkloadOwner,
    type: 'Normal' | 'Warning',
    reason: string,
    note: string,
  ): Promise<void> {
    const { name, namespace, uid } = tenant.metadata!;
    const text = utf8Prefix(note, NOTE_MAX_BYTES);
    // A digest, not the note: a series is remembered for six minutes, and placing thousands of
    // tenants records an Event or two each, whose notes would otherwise be held as keys.
    const key = createHash('sha256').update([uid, type, reason, text].join('\u0000')).digest('base64');
    const now = this.options.now();
    this.sweep(now);
    const seen = this.series.get(key);
    if (seen && now - seen.lastAt < SERIES_WINDOW_MS) {
      seen.count++;
      seen.lastAt = now;
      if (seen.written > 1 && now - seen.writtenAt < this.options.seriesFlushMs) {
        this.scheduleFlush();
        return;
      }
      // Gone (Events expire after an hour, or were deleted): this repeat starts a new Event.
      if (await this.writeSeries(key, seen)) return;
    }
    const event = {
      apiVersion: KINDS.event.apiVersion,
      kind: 'Event',
      metadata: { generateName: `${name}-`, namespace },
      eventTime: microTime(new Date(now)),
      reportingController: 'jsm-sso.io/operator',
      reportingInstance: this.options.instance,
      action: 'Reconcile',
      type,
      reason,
      note: text,
      regarding: { apiVersion: tenant.apiVersion, kind: tenant.kind, name, namespace, uid },
    };
    try {
      const created = await this.options.client.create<KubeObject>(
        collectionPath(KINDS.event, namespace),
        event,
      );
      this.series.set(key, {
        namespace: namespace ?? '',
        name: created.metadata.name ?? '',
        count: 1,
        written: 1,
        lastAt: now,
        writtenAt: now,
      });
    } catch (err) {
      // Refused in a namespace being deleted: the Event would go with it anyway, and a warning for
      // each would be noise in the one place where it is expected.
      if (namespaceTerminating(err)) return;
      this.options.logger.warn(
        { event: 'operator.event_failed', reason, err },
        'could not record a Kubernetes Event',
      );
    }
  }

  /** Writes the series counts not yet written (at shutdown, so the last repeats are not lost). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const [key, series] of this.series)
      if (series.count > series.written) await this.writeSeries(key, series);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.options.seriesFlushMs);
    this.flushTimer.unref();
  }

  /** Writes the series count; false when the Event is gone (then the series is forgotten). */
  private async writeSeries(key: string, series: Series): Promise<boolean> {
    const count = series.count;
    try {
      await this.options.client.request('PATCH', objectPath(KINDS.event, series.namespace, series.name), {
        body: { series: { count, lastObservedTime: microTime(new Date(series.lastAt)) } },
        contentType: 'application/merge-patch+json',
      });
      series.written = count;
      series.writtenAt = this.options.now();
      return true;
    } catch (err) {
      if (isNotFound(err)) {
        this.series.delete(key);
        return false;
      }
      this.options.logger.warn(
        { event: 'operator.event_failed', err },
        'could not update a Kubernetes Event series',
      );
      return true;
    }
  }

  /** Forgets series idle past the window, so memory follows recent Events only. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, series] of this.series) {
      if (now - series.lastAt >= SERIES_WINDOW_MS && series.count === series.written) this.series.delete(key);
    }
  }
}

/**
 * An Event for each condition `recorded` names that changed status or reason: a Warning when it
 * turned False, Normal when it turned True again, so `kubectl describe` shows why and when.
 */
export async function recordTransitions(
  events: EventRecorder,
  owner: WorkloadOwner,
  previous: Condition[] | undefined,
  next: Condition[] | undefined,
  recorded: (condition: Condition, prior: Condition | undefined) => boolean,
): Promise<void> {
  for (const condition of next ?? []) {
    const prior = previous?.find((c) => c.type === condition.type);
    if (!recorded(condition, prior)) continue;
    const changed = !prior || prior.status !== condition.status || prior.reason !== condition.reason;
    if (!changed) continue;
    if (condition.status === 'False') {
      await events.record(owner, 'Warning', condition.reason, `${condition.type}: ${condition.message}`);
    } else if (condition.status === 'True' && prior) {
      await events.record(owner, 'Normal', condition.reason, `${condition.type}: ${condition.message}`);
    }
  }
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
