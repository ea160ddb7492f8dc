import { expect } from 'chai';
import fc from 'fast-check';
import { type Stack, startStack } from '../../testkit/broker-harness.js';

describe('broker: fuzzing every public endpoint', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  const paths = [
    '/saml/sso',
    '/saml/choose',
    '/oidc/callback',
    '/saml/slo',
    '/oidc/logout-callback',
    '/saml/acs',
    '/saml/metadata',
    '/saml/sp-metadata',
    '/x',
  ];
  const names = [
    'SAMLRequest',
    'SAMLResponse',
    'RelayState',
    'SigAlg',
    'Signature',
    'state',
    'code',
    'iss',
    'csrf',
    'idp',
    'email',
  ];

  it('never answers 5xx nor crashes, whatever the query or form', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.array(
          fc.tuple(
            fc.constantFrom(...names),
            fc.oneof(fc.string(), fc.base64String(), fc.string({ unit: 'grapheme' })),
          ),
          { maxLength: 5 },
        ),
        async (path, method, params) => {
          const query = new URLSearchParams(params).toString();
          const response = await fetch(`${stack.broker.url}${path}${method === 'GET' ? `?${query}` : ''}`, {
            method,
            redirect: 'manual',
            ...(method === 'GET'
              ? {}
              : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query }),
          });
          await response.arrayBuffer();
          expect(response.status).to.be.lessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
