/**
 * The tenant's service desks and request type catalogue, cached in-process with a short TTL (the
 * catalogue changes rarely and every page needs it). Concurrent misses share one Atlassian call.
 * Desks are limited to `spec.atlassian.serviceDeskIds` when set.
 */
import type { AtlassianClient } from './atlassian/client.js';
import { outsidePage, waitWithinPage } from './atlassian/page-budget.js';
import type {
  JiraField,
  RequestTypeDTO,
  RequestTypeFieldsDTO,
  RequestTypeGroupDTO,
  ServiceDeskDTO,
} from './atlassian/types.js';
import type { Customer, DeskRef } from './visibility.js';

/** The custom field types of JSM's Organizations and Request Type fields (their ids differ per site). */
const ORGANIZATIONS_FIELD_TYPE = 'com.atlassian.servicedesk:sd-customer-organizations';
const REQUEST_TYPE_FIELD_TYPE = 'com.atlassian.servicedesk:vp-origin';

/** At most `max` entries, each for `ttlMs`; when full, the oldest entry makes room. */
export class TtlCache {
  readonly #entries = new Map<string, { until: number; value: Promise<unknown> }>();
  readonly #ttlMs: number;
  readonly #max: number;
  constructor(ttlMs: number, max = 1000) {
    this.#ttlMs = ttlMs;
    this.#max = max;
  }
  /**
   * The cached value, else `load()`'s, shared by every page asking meanwhile. The load runs outside
   * the page that started it and each page waits for it within its own deadline (ADR 0185): one
   * page's budget running out never fails the load for the others. `expiresBy`, asked of the value
   * when the load ends, can hold it for less than the cache's lifetime (what it was made of was older).
   */
  get<T>(key: string, load: () => Promise<T>, expiresBy?: (value: T) => number): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return waitWithinPage(hit.value as Promise<T>);
    this.#entries.delete(key);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    const value = outsidePage(load);
    const entry = { until: now + this.#ttlMs, value };
    this.#entries.set(key, entry);
    value.then(
      (loaded) => {
        if (expiresBy) entry.until = Math.min(entry.until, expiresBy(loaded));
      },
      // A failed load is not cached.
      () => this.#entries.delete(key),
    );
    return waitWithinPage(value);
  }
  /** Stores a value known by other means (it replaces what was cached under the key), until `until` at most. */
  put<T>(key: string, value: T, until = Number.POSITIVE_INFINITY): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    const expiry = Math.min(until, Date.now() + this.#ttlMs);
    this.#entries.set(key, { until: expiry, value: Promise.resolve(value) });
  }
}

export interface Desk extends ServiceDeskDTO {
  name: string;
}

export class Catalogue {
  readonly #client: AtlassianClient;
  readonly #cache: TtlCache;
  readonly #deskIds: readonly string[] | undefined;

  constructor(client: AtlassianClient, serviceDeskIds: readonly string[] | undefined, ttlMs = 60_000) {
    this.#client = client;
    this.#cache = new TtlCache(ttlMs);
    this.#deskIds = serviceDeskIds && serviceDeskIds.length > 0 ? serviceDeskIds : undefined;
  }

  desks(): Promise<Desk[]> {
    return this.#cache.get('desks', async () => {
      const all = await this.#client.serviceDesks();
      const allowed = this.#deskIds ? all.filter((d) => this.#deskIds!.includes(d.id)) : all;
      return allowed.map((d) => ({ ...d, name: d.projectName ?? d.projectKey ?? d.id }));
    });
  }

  /** The portal desks this customer may use (decided at sign-in), in the portal's order. */
  async desksFor(customer: Pick<Customer, 'serviceDeskIds'>): Promise<Desk[]> {
    return (await this.desks()).filter((d) => customer.serviceDeskIds.includes(d.id));
  }

  async deskRefs(): Promise<DeskRef[]> {
    return (await this.desks()).map((d) => ({ serviceDeskId: d.id, projectId: d.projectId }));
  }

  async desk(serviceDeskId: string): Promise<Desk | undefined> {
    return (await this.desks()).find((d) => d.id === serviceDeskId);
  }

  groups(serviceDeskId: string): Promise<RequestTypeGroupDTO[]> {
    return this.#cache.get(`groups:${serviceDeskId}`, () => this.#client.requestTypeGroups(serviceDeskId));
  }

  /** Every request type of the desk, hidden ones too: what names a request's type, whoever raised it. */
  requestTypes(serviceDeskId: string): Promise<RequestTypeDTO[]> {
    return this.#cache.get(`types:${serviceDeskId}`, () => this.#client.requestTypes(serviceDeskId));
  }

  /**
   * The request types a customer may raise: those in at least one request type group. A type in no
   * group is hidden from the portal (JSM's own words for it); agents use such types for requests
   * from e-mail or raised inside Jira, and the native portal neither lists them nor takes a request
   * of them from a customer.
   */
  async portalRequestTypes(serviceDeskId: string): Promise<RequestTypeDTO[]> {
    return (await this.requestTypes(serviceDeskId)).filter((t) => (t.groupIds ?? []).length > 0);
  }

  /** The id of JSM's Organizations field (sharing a request with organizations), if the site has one. */
  async organizationsField(): Promise<string | undefined> {
    return (await this.#jiraFields()).find((f) => f.schema?.custom === ORGANIZATIONS_FIELD_TYPE)?.id;
  }

  /** The id of JSM's Request Type field (a request's type in a JQL search), if the site has one. */
  async requestTypeField(): Promise<string | undefined> {
    return (await this.#jiraFields()).find((f) => f.schema?.custom === REQUEST_TYPE_FIELD_TYPE)?.id;
  }

  /**
   * The fields whose values are a date or a date and time (Jira's schema types `date`, `datetime`),
   * by id: a request's field values carry Jira's text for them, which the page shows as dates.
   */
  async timeFields(): Promise<ReadonlyMap<string, 'date' | 'datetime'>> {
    const out = new Map<string, 'date' | 'datetime'>();
    for (const f of await this.#jiraFields())
      if (f.schema?.type === 'date' || f.schema?.type === 'datetime') out.set(f.id, f.schema.type);
    return out;
  }

  #jiraFields(): Promise<JiraField[]> {
    return this.#cache.get('jira-fields', () => this.#client.fields());
  }

  /**
   * A request type's icon (the 48 px one, else any size Atlassian lists), or undefined when the type
   * has none. Cached like the rest of the catalogue: every desk page shows every icon.
   */
  icon(type: RequestTypeDTO): Promise<{ contentType: string; body: Buffer } | undefined> {
    const urls = type.icon?._links?.iconUrls ?? {};
    const url = urls['48x48'] ?? Object.values(urls)[0];
    if (!url) return Promise.resolve(undefined);
    return this.#cache.get(`icon:${url}`, () => this.#client.requestTypeIcon(url));
  }

  fields(serviceDeskId: string, requestTypeId: string): Promise<RequestTypeFieldsDTO> {
    return this.#cache.get(`fields:${serviceDeskId}:${requestTypeId}`, () =>
      this.#client.requestTypeFields(serviceDeskId, requestTypeId),
    );
  }
}
