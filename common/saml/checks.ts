import { createHash } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import type { FlowStore } from '../flowstore/index.js';
import { SamlError } from './errors.js';
import { NAMEID_ENTITY, NS } from './namespaces.js';
import { attribute, optionalChild, requiredChild, simpleText } from './xml.js';

/**
 * The named checks that Responses (response.ts) and protocol requests and logout messages
 * (protocol-message.ts) share, so each is written, and judged, once.
 */

/** How far apart our clock and a peer's may be; every time window is widened by it, never more. */
export const MAX_CLOCK_SKEW_SECONDS = 180;
/** A message older than this (plus clock skew) is stale: it cannot be a live browser redirect or post. */
export const MAX_MESSAGE_AGE_SECONDS = 300;

/** An xs:dateTime attribute with its time zone (core 1.3.3), as epoch milliseconds; undefined when absent. */
export function timeAttribute(element: Element, name: string): number | undefined {
  const value = attribute(element, name);
  if (value === undefined) return undefined;
  const time = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(time))
    throw new SamlError('SAML_XML_INVALID', `${element.localName}/@${name} is not a valid time`);
  return time;
}

/** The message's IssueInstant, no older than MAX_MESSAGE_AGE_SECONDS and not ahead, each beyond `skewMs`. */
export function checkIssueInstant(message: Element, now: number, skewMs: number): Date {
  const issued = timeAttribute(message, 'IssueInstant');
  if (issued === undefined)
    throw new SamlError('SAML_XML_INVALID', `the ${message.localName} has no IssueInstant`);
  if (now - issued > MAX_MESSAGE_AGE_SECONDS * 1000 + skewMs)
    throw new SamlError('SAML_EXPIRED', `the ${message.localName} is stale`);
  if (issued - now > skewMs)
    throw new SamlError('SAML_NOT_YET_VALID', `the ${message.localName} is dated in the future`);
  return new Date(issued);
}

/** Issuer names `expected`, with the entity format or none (core 2.2.5, 3.2.2, 8.3.6). */
export function checkIssuer(issuer: Element | undefined, expected: string): string {
  const format = issuer ? attribute(issuer, 'Format') : undefined;
  const value = issuer ? simpleText(issuer) : undefined;
  if (value === undefined || (format !== undefined && format !== NAMEID_ENTITY) || value !== expected) {
    throw new SamlError('SAML_ISSUER_MISMATCH', 'the message was issued by another entity');
  }
  return value;
}

/** The top-level and, if any, second-level StatusCode of a Response or LogoutResponse. */
export function statusOf(message: Element): { code: string | undefined; second: string | undefined } {
  const code = requiredChild(requiredChild(message, NS.protocol, 'Status'), NS.protocol, 'StatusCode');
  const second = optionalChild(code, NS.protocol, 'StatusCode');
  return { code: attribute(code, 'Value'), second: second ? attribute(second, 'Value') : undefined };
}

/**
 * One-time use of an assertion or message ID (profiles 4.1.4.5): remembered in the flow store,
 * shared by all replicas, for `ttlSeconds`, the time after which the time checks refuse it anyway.
 * The key is a hash of the issuer and the ID, so nothing the peer chose is stored as is.
 */
export async function useOnce(
  store: FlowStore,
  kind: 'assertion' | 'message',
  issuer: string,
  id: string,
  ttlSeconds: number,
): Promise<void> {
  if (!(await store.putIfAbsent(oneTimeKey(kind, issuer, id), '1', markerTtl(ttlSeconds)))) {
    throw replayed(kind);
  }
}

/**
 * The first half of `useOnce` for a message acted on before it is marked (ADR 0164): refused if its
 * ID was marked used, nothing written.
 */
export async function checkMessageNotUsed(store: FlowStore, issuer: string, id: string): Promise<void> {
  if ((await store.get(oneTimeKey('message', issuer, id))) !== undefined) throw replayed('message');
}

/** The second half: the message's ID marked used for `ttlSeconds`, once what it asked is done. */
export async function markMessageUsed(
  store: FlowStore,
  issuer: string,
  id: string,
  ttlSeconds: number,
): Promise<void> {
  await store.put(oneTimeKey('message', issuer, id), '1', markerTtl(ttlSeconds));
}

const oneTimeKey = (kind: 'assertion' | 'message', issuer: string, id: string) =>
  `saml-${kind}:${createHash('sha256').update(`${issuer}\n${id}`).digest('base64url')}`;
const markerTtl = (ttlSeconds: number) => Math.max(1, Math.ceil(ttlSeconds));
const replayed = (kind: 'assertion' | 'message') =>
  new SamlError('SAML_REPLAY', `the ${kind} has already been used`);
