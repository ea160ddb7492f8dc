import { createSecureContext } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { JsmSsoError } from '../errors.js';
import { trustedCas } from './ca-bundle.js';
import { isLoopbackHost } from './loopback.js';
import { MIN_TLS_VERSION } from './versions.js';

export interface TlsFetchOptions {
  /** Extra PEM CA certificates (a tenant `caBundleSecretRef`), trusted in addition to Node's public roots. */
  extraCaPem?: string;
  /**
   * Allow plain http:// to loopback hosts (localhost, 127.0.0.0/8, ::1), as the CRD allows for
   * its URLs. Default true; false means https:// only. Non-loopback http:// is always refused.
   */
  allowLoopbackHttp?: boolean;
}

/** A `fetch` for outbound calls; `close()` drops its pooled connections. */
export type TlsFetch = typeof globalThis.fetch & { close(): Promise<void> };

/**
 * The one way parts call other servers (IdP discovery, JWKS, token, userinfo; broker metadata;
 * the Atlassian API): certificate and host name verification always on, TLS 1.2 or higher, and
 * plain http only to loopback. The check sits in the connector, so it holds for every connection
 * the request makes, redirects included. There is deliberately no option to turn verification off.
 */
export function createTlsFetch(options: TlsFetchOptions = {}): TlsFetch {
  const allowLoopbackHttp = options.allowLoopbackHttp ?? true;
  const tlsConnect = buildConnector({
    // One context for every connection of this fetch: given only `ca`, tls.connect builds a new one
    // per connection, and with an extra bundle that parses all ~150 public roots again (5 ms of CPU).
    secureContext: createSecureContext({
      minVersion: MIN_TLS_VERSION,
      ...(options.extraCaPem === undefined ? {} : { ca: trustedCas(options.extraCaPem) }),
    }),
    rejectUnauthorized: true,
  });
  const agent = new Agent({
    connect(connectOptions, callback) {
      const refusal = refusalFor(connectOptions.protocol, connectOptions.hostname, allowLoopbackHttp);
      if (refusal) {
        callback(refusal, null);
        return;
      }
      tlsConnect(connectOptions, callback);
    },
  });
  const tlsFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const refusal = refusalFor(url.protocol, url.hostname, allowLoopbackHttp);
    if (refusal) throw refusal;
    try {
      // Node's own fetch drives the undici Agent (same undici major, 6, as Node 22's built-in one).
      return await fetch(input, { ...init, dispatcher: agent } as RequestInit);
    } catch (err) {
      // A refusal on a redirect hop surfaces as fetch's generic TypeError; give callers its code.
      const cause = err instanceof Error ? err.cause : undefined;
      throw cause instanceof JsmSsoError ? cause : err;
    }
  };
  return Object.assign(tlsFetch, { close: () => agent.close() }) as TlsFetch;
}

function refusalFor(protocol: string, hostname: string, allowLoopbackHttp: boolean): JsmSsoError | undefined {
  if (protocol === 'https:') return undefined;
  if (protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(hostname)) return undefined;
  return new JsmSsoError(
    'TLS_PLAINTEXT_FORBIDDEN',
    `refusing ${protocol}//${hostname}: outbound calls use https:// (plain http:// only to loopback${
      allowLoopbackHttp ? '' : ', and not here'
    })`,
    { status: 502 },
  );
}
