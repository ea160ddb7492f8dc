/**
 * The portal's form and SOAP body parsers (express's, body-parser underneath), each refusing what it
 * can before reading a byte (ADR 0404). A declared length past the limit is 413 at once: body-parser
 * itself read the whole body off the wire first, and, for a client waiting on `Expect: 100-continue`
 * (common/http/continue-when-read.ts), which is sent no 100 for a body not read, never answered. A
 * Content-Encoding is 415: no client of the portal compresses a request, and a body is read as sent.
 */
import express, { type RequestHandler } from 'express';
import { declaredPast } from '../../common/http/request-body.js';
import { declaredTooLarge } from './body-errors.js';

const FORM_TYPE = 'application/x-www-form-urlencoded';
/** SOAP 1.1's media type, and SOAP 1.2's, which an IdP may send with the same envelope. */
const SOAP_TYPES = ['text/xml', 'application/soap+xml'];

/** A URL-encoded form of at most `limit` bytes and `parameterLimit` parameters, flat (no qs objects). */
export function formBody(limit: number, parameterLimit: number): RequestHandler {
  return refusedUnreadPast(
    [FORM_TYPE],
    limit,
    express.urlencoded({ type: FORM_TYPE, extended: false, limit, parameterLimit, inflate: false }),
  );
}

/** A SOAP envelope as text, at most `limit` bytes. */
export function soapBody(limit: number): RequestHandler {
  return refusedUnreadPast(SOAP_TYPES, limit, express.text({ type: SOAP_TYPES, limit, inflate: false }));
}

function refusedUnreadPast(types: string[], limit: number, parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.is(types) && declaredPast(req, limit)) {
      next(declaredTooLarge());
      return;
    }
    parse(req, res, next);
  };
}
