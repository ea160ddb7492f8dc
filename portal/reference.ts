// What a customer reads out to the help desk from an error page, and what support looks for in the
// logs: the reason code, and this answer's own reference (ADR 0316). The reference is random, tied
// to nothing of the customer's, so the page and the log line share it without sharing personal data.
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

export interface PageReference {
  readonly reason: string;
  readonly id: string;
}

const REFERENCE = 'reference';

/** The answer's reference, the same for every log line and the page of one request. */
export function referenceOf(res: Response, reason: string): PageReference {
  const id = (res.locals[REFERENCE] as string | undefined) ?? randomBytes(6).toString('hex');
  res.locals[REFERENCE] = id;
  return { reason, id };
}
