import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { KubeObject } from '../common/kube/client.js';
import { createSelfSignedCertificate } from '../common/pki.js';
import { checkWhatViewersRead } from './cluster-scan.js';

/**
 * A tiny Kubernetes API server for fault injection only: the faults a real kube-apiserver will not
 * produce on demand (410 Gone, dropped or silent watches, 409 and 5xx answers). It speaks just
 * what common/kube/client.ts uses: list, watch (newline-delimited events from a resourceVersion,
 * ERROR 410 below the compaction point), get, create (409 AlreadyExists), server-side apply
 * (stores the applied object; `/status` sets the status) and delete, on namespaced collections.
 * Semantics it does not need (field ownership, defaulting, validation) are left out on purpose.
 */
export interface FakeRequest {
  method: string;
  /** Collection path, e.g. /api/v1/namespaces/a/secrets. */
  collection: string;
  plural: string;
  name?: string;
  subresource?: string;
  watch: boolean;
  query: URLSearchParams;
  at: number;
}

export type FaultAction =
  /** Answer with this status and a Kubernetes Status body. */
  | { kind: 'status'; code: number; reason: string; before?: (body: KubeObject | undefined) => void }
  /** Watch: send the backlog, then cut the TCP connection without ending the stream. */
  | { kind: 'drop' }
  /** Watch: send headers, then nothing, ever (until the client gives up). */
  | { kind: 'silent' }
  /**
   * Watch: send the backlog, then end the stream cleanly at once, as a proxy in front of the API
   * server may (its upstream gone, a stream duration it caps): a watch the server ended normally.
   */
  | { kind: 'end' };

export interface FaultRule {
  match: (request: FakeRequest) => boolean;
  action: FaultAction;
  /** How many matching requests get the fault; unlimited when undefined. */
  times?: number;
}

interface LoggedEvent {
  collection: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  rv: number;
}

interface Watcher {
  collection: string;
  labelSelector?: string;
  res: ServerResponse;
}

export class FakeApiServer {
  readonly requests: FakeRequest[] = [];
  /** Watch requests whose connection has closed (by either side). */
  closedWatches = 0;
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly log: LoggedEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly rules: FaultRule[] = [];
  private revision = 1;
  private compactedAt = 0;
  private server: Server | undefined;
  private url = '';

  static async start(): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    const pair = await createSelfSignedCertificate({ commonName: '127.0.0.1', days: 1 });
    fake.server = createServer({ key: pair.keyPem, cert: pair.certPem }, (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve));
    fake.url = `https://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A kubeconfig for this server (self-signed, so TLS verification is off: loopback only). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The same as a kubeconfig file, for a process started against this server (`--kubeconfig`, KUBECONFIG). */
  kubeconfigFile(): string {
    const file = join(mkdtempSync(join(tmpdir(), 'jsm-sso-fake-apiserver-')), 'kubeconfig');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fake', user: { token: 'fake' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      }),
    );
    return file;
  }

  inject(rule: FaultRule): void {
    this.rules.push(rule);
  }

  clearFaults(): void {
    this.rules.length = 0;
  }

  object(collection: string, name: string): KubeObject | undefined {
    return this.store.get(collection)?.get(name);
  }

  objects(collection: string): KubeObject[] {
    return [...(this.store.get(collection)?.values() ?? [])];
  }

  /** Creates or replaces an object, notifying watchers unless `unseen`. */
  put(collection: string, object: KubeObject, unseen = false): KubeObject {
    const items = this.store.get(collection) ?? new Map<string, KubeObject>();
    this.store.set(collection, items);
    const name = object.metadata.name!;
    const before = items.get(name);
    const stored = normalize(object);
    stored.metadata = {
      ...stored.metadata,
      uid: before?.metadata.uid ?? randomUUID(),
      generation: (before?.metadata.generation ?? 0) + 1,
      creationTimestamp: before?.metadata.creationTimestamp ?? new Date(),
      resourceVersion: String(++this.revision),
    };
    items.set(name, stored);
    // What a viewer of a real API server would read of it is checked as there (ADR 0278).
    checkWhatViewersRead(collection.split('/').pop()!, stored);
    this.emit(collection, before ? 'MODIFIED' : 'ADDED', stored, unseen);
    return stored;
  }

  remove(collection: string, name: string, unseen = false): boolean {
    const object = this.store.get(collection)?.get(name);
    if (!object) return false;
    this.store.get(collection)!.delete(name);
    const gone = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.revision) } };
    this.emit(collection, 'DELETED', gone, unseen);
    return true;
  }

  /**
   * Forgets the event history up to now (like etcd compaction) and ends every open watch cleanly:
   * a client that resumes from an older resourceVersion gets ERROR 410 Gone and must relist.
   */
  compactAndCloseWatches(): void {
    this.compactedAt = this.revision;
    this.log.length = 0;
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.res.destroy();
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private emit(collection: string, type: LoggedEvent['type'], object: KubeObject, unseen: boolean): void {
    const event = { collection, type, object, rv: this.revision };
    this.log.push(event);
    if (unseen) return;
    for (const watcher of this.watchers) {
      if (watcher.collection === collection && matches(object, watcher.labelSelector))
        watcher.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.url);
      const request = parsePath(req.method ?? 'GET', url);
      this.requests.push(request);
      if (request.watch) res.once('close', () => this.closedWatches++);
      const body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeObject)
        : undefined;
      const rule = this.rules.find((r) => (r.times === undefined || r.times > 0) && r.match(request));
      if (rule) {
        if (rule.times !== undefined) rule.times--;
        return this.fault(rule.action, request, body, res);
      }
      this.serve(request, body, res);
    });
  }

  private fault(
    action: FaultAction,
    request: FakeRequest,
    body: KubeObject | undefined,
    res: ServerResponse,
  ): void {
    if (action.kind === 'status') {
      action.before?.(body);
      sendJson(res, ...status(action.code, action.reason, `injected ${action.code} ${action.reason}`));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    if (action.kind === 'drop') {
      this.sendBacklog(request, res);
      // Let the bytes leave, then cut the connection mid-stream (no terminating chunk).
      setTimeout(() => res.socket?.destroy(), 20);
    }
    if (action.kind === 'end') {
      this.sendBacklog(request, res);
      res.end();
    }
  }

  /** Writes the watch events after the request's resourceVersion. */
  private sendBacklog(request: FakeRequest, res: ServerResponse): void {
    for (const e of this.backlog(request))
      res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  private backlog(request: FakeRequest): LoggedEvent[] {
    const from = Number(request.query.get('resourceVersion') ?? '0');
    const selector = request.query.get('labelSelector') ?? undefined;
    return this.log.filter(
      (e) => e.collection === request.collection && e.rv > from && matches(e.object, selector),
    );
  }

  private serve(request: FakeRequest, body: KubeObject | undefined, res: ServerResponse): void {
    if (request.method === 'GET' && !request.name && request.watch) this.watch(request, res);
    else sendJson(res, ...this.answer(request, body));
  }

  /** The status code and body for a request that is not a watch. */
  private answer(request: FakeRequest, body: KubeObject | undefined): [number, unknown] {
    const { method, collection, name, subresource } = request;
    const selector = request.query.get('labelSelector') ?? undefined;
    if (method === 'GET' && !name) {
      const items = this.objects(collection).filter((o) => matches(o, selector));
      return [200, { metadata: { resourceVersion: String(this.revision) }, items }];
    }
    const existing = name ? this.object(collection, name) : undefined;
    const notFound = status(404, 'NotFound', `${name} not found`);
    if (method === 'GET') return existing ? [200, existing] : notFound;
    if (method === 'POST' && body) {
      const objectName =
        body.metadata.name ?? `${body.metadata.generateName ?? 'x-'}${randomUUID().slice(0, 5)}`;
      if (this.object(collection, objectName))
        return status(409, 'AlreadyExists', `${objectName} already exists`);
      return [201, this.put(collection, { ...body, metadata: { ...body.metadata, name: objectName } })];
    }
    if (method === 'PATCH' && name && body) {
      if (subresource === 'status') {
        return existing ? [200, this.put(collection, { ...existing, status: body['status'] })] : notFound;
      }
      const metadata = { ...body.metadata, ...(existing ? { uid: existing.metadata.uid } : {}) };
      const kept = existing?.['status'] ? { status: existing['status'] } : {};
      return [200, this.put(collection, { ...body, metadata, ...kept })];
    }
    if (method === 'DELETE' && name) {
      return this.remove(collection, name) ? [200, { kind: 'Status', status: 'Success' }] : notFound;
    }
    return status(405, 'MethodNotAllowed', `${method} is not supported by the fake`);
  }

  private watch(request: FakeRequest, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    const from = Number(request.query.get('resourceVersion') ?? '0');
    if (from < this.compactedAt) {
      // What kube-apiserver sends for a resourceVersion older than its history: a 200 stream
      // whose only event is an ERROR carrying a 410 Status.
      const status = {
        kind: 'Status',
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    this.sendBacklog(request, res);
    const watcher: Watcher = {
      collection: request.collection,
      labelSelector: request.query.get('labelSelector') ?? undefined,
      res,
    };
    this.watchers.add(watcher);
    // Like kube-apiserver, end the watch cleanly once its timeoutSeconds have passed.
    const timeoutSeconds = Number(request.query.get('timeoutSeconds') ?? '0');
    const timer = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }
}

function parsePath(method: string, url: URL): FakeRequest {
  const parts = url.pathname.split('/');
  const ns = parts.indexOf('namespaces');
  const plural = parts[ns + 2] ?? '';
  return {
    method,
    collection: parts.slice(0, ns + 3).join('/'),
    plural,
    name: parts[ns + 3] ? decodeURIComponent(parts[ns + 3]!) : undefined,
    subresource: parts[ns + 4],
    watch: url.searchParams.get('watch') === '1',
    query: url.searchParams,
    at: Date.now(),
  };
}

/** stringData folds into data, as the API server does for Secrets. */
function normalize(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  const stringData = copy['stringData'] as Record<string, string> | undefined;
  if (stringData) {
    const data = { ...((copy['data'] as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v).toString('base64');
    copy['data'] = data;
    delete copy['stringData'];
  }
  return copy;
}

/** Equality-based selectors only (`a=b,c=d`), which is all the operator uses. */
function matches(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return object.metadata.labels?.[key ?? ''] === value;
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(code: number, reason: string, message: string): [number, unknown] {
  return [code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }];
}
