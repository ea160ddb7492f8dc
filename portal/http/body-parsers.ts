/**
 * The portal's form and SOAP body parsers (express's, body-parser underneath), each refusing what it
 * can before reading a byte (ADR 0404). A declared length past the limit is 413 at once: body-parser
 * itself read the whole body off the wire first, and, for a client waiting on `Expect: 100-continue`
 * (common/http/continue-when-read.ts), which is sent no 100 for a body not read, never answered. A
 * Content-Encoding is 415: no client of the portal compresses a request, and a body is read as sent.
 * A body its client abandoned, before it was read or while it was, ends the request with
 * PORTAL_CLIENT_ABORTED (ADR 0406): body-parser let a request whose connection had closed before it
 * ran through to its route with no body ("already parsed"), where it was judged as a form without
 * its token (PORTAL_CSRF), and called one cut while it read an unreadable body (PORTAL_BODY_INVALID).
 */
import express, { type RequestHandler } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import { declaredPast } from '../../common/http/request-body.js';
import { declaredTooLarge } from './body-errors.js';

const FORM_TYPE = 'application/x-www-form-urlencoded';
/** SOAP 1.1's media type, and SOAP 1.2's, which an IdP may send with the same envelope. */
const SOAP_TYPES = ['text/xml', 'application/soap+xml'];

/** A URL-encoded form of at most `limit` bytes and `parameterLimit` parameters, flat (no qs objects). */
export function formBody(limit: number, parameterLimit: number): RequestHandler {
  return readUnlessRefused(
    [FORM_TYPE],
    limit,
    express.urlencoded({ type: FORM_TYPE, extended: false, limit, parameterLimit, inflate: false }),
  );
}

/** A SOAP envelope as text, at most `limit` bytes. */
export function soapBody(limit: number): RequestHandler {
  return readUnlessRefused(SOAP_TYPES, limit, express.text({ type: SOAP_TYPES, limit, inflate: false }));
}

function readUnlessRefused(types: string[], limit: number, parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!req.is(types)) {
      parse(req, res, next);
      return;
    }
    // Node destroys a request whose connection closes before its body has been read (the client
    // gone while the checks before the body ran: its session, its rate limits).
    if (req.destroyed && !req.readableEnded) {
      next(clientAborted());
      return;
    }
    if (declaredPast(req, limit)) {
      next(declaredTooLarge());
      return;
    }
    parse(req, res, (err?: unknown) => next(cutWhileRead(err) ? clientAborted(err) : err));
  };
}

/** body-parser's error for a connection closed before the body it was reading ended. */
const cutWhileRead = (err: unknown) => (err as { type?: unknown } | undefined)?.type === 'request.aborted';

const clientAborted = (cause?: unknown) =>
  new JsmSsoError('PORTAL_CLIENT_ABORTED', 'the client went away before its form was read', {
    status: 400,
    cause,
  });
