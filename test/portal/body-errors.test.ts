// body-parser's documented error types as the portal's refusals (portal/http/body-errors.ts). An unreadable
// body (a size that does not match its Content-Length, a parse failure) cannot be made by a client of the
// portal's forms through Node's HTTP parser and body-parser's options today, so it is asserted here; a body
// its client abandoned is no refusal at all (ADR 0406: http/body-parsers.ts ends it as a client gone).
import { expect } from 'chai';
import { bodyRefusal } from '../../portal/http/body-errors.js';

describe('portal: body-parser errors as refusals', () => {
  for (const type of ['request.size.invalid', 'entity.parse.failed']) {
    it(`refuses a body body-parser calls ${type} 400 PORTAL_BODY_INVALID`, () => {
      expect(bodyRefusal({ type })).to.deep.equal({ status: 400, code: 'PORTAL_BODY_INVALID', params: {} });
    });
  }

  it('calls a body cut by its client no refusal (ADR 0406)', () => {
    expect(bodyRefusal({ type: 'request.aborted' })).to.equal(undefined);
  });
});
