// A test client for the JSM emulator that checks every exchange against the Atlassian spec.
import { assertConformsToSpec } from './atlassian-spec.js';

export interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
  operation: string;
}

export interface SpecClientOptions {
  baseUrl: string;
  email: string;
  apiToken: string;
  /** Operations seen so far (`GET /rest/servicedeskapi/request`), shared across clients. */
  seen?: Set<string>;
}

export function specClient(options: SpecClientOptions) {
  const authorization = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  return async function call(
    method: string,
    path: string,
    init: { json?: unknown; headers?: Record<string, string>; form?: FormData } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { authorization, accept: 'application/json', ...init.headers };
    let body: string | FormData | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) body = init.form;
    const res = await fetch(options.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').includes('json');
    const parsed: unknown = isJson && text !== '' ? JSON.parse(text) : text === '' ? undefined : text;
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const operation = assertConformsToSpec({
      method,
      path,
      status: res.status,
      ...(init.json !== undefined ? { requestBody: init.json } : {}),
      ...(isJson ? { responseBody: parsed } : {}),
      requestHeaders: lower,
      responseHeaders,
    });
    options.seen?.add(operation);
    return { status: res.status, body: parsed, headers: res.headers, operation };
  };
}
