// A pool process builds parts for thousands of tenants: nothing per tenant may hang a listener on
// the process or on stdout, or the process grows without bound (and Node warns
// MaxListenersExceededWarning after ten). The test scaffolding is held to the same rule.
import { expect } from 'chai';
import { createBrokerApp } from '../../broker/app.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { startPool } from '../../common/pool/start.js';
import { createPki, oidcIdp, type Pki, tenantFor } from '../../testkit/broker-harness.js';
import { MemoryTenantSource, tenantAt } from '../../testkit/pool.js';
import { schemaValidator } from '../../testkit/samlify-schema-validator.js';

/** The listeners a leak would add to: process-wide handlers and the stream every log line goes to. */
function processListeners() {
  return {
    uncaughtException: process.listenerCount('uncaughtException'),
    unhandledRejection: process.listenerCount('unhandledRejection'),
    exit: process.listenerCount('exit'),
    stdoutDrain: process.stdout.listenerCount('drain'),
    stdoutError: process.stdout.listenerCount('error'),
  };
}

const TENANTS = 40;

describe('process-wide listeners do not grow with tenants', function () {
  this.timeout(120_000);
  let pki: Pki;

  before(() => {
    pki = createPki();
  });

  after(() => pki?.cleanup());

  it(`stay the same while one broker pool builds the parts of ${TENANTS} tenants and closes them`, async () => {
    // The pool's one logger writes to stdout as a real pool process's does (runtime.ts); its
    // destination registers for process exit once. Anything a tenant adds after that is a leak.
    const logger = createLogger({ component: 'broker', level: 'silent' });
    const before = processListeners();
    const source = new MemoryTenantSource(
      Array.from({ length: TENANTS }, (_, i) => {
        const name = `listeners-${i}`;
        const url = `http://127.0.0.1:${20_000 + i}`;
        const tenant = tenantAt(
          tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:1')]),
          'broker',
          name,
          url,
        );
        return { key: name, tenant, secrets: pki.secrets };
      }),
    );
    const store = new MemoryFlowStore();
    const running = await startPool({
      part: 'broker',
      build: createBrokerApp,
      source,
      store,
      registry: createMetricsRegistry(),
      logger,
    });
    try {
      for (let i = 0; i < TENANTS; i++) await running.pool.partOf(`listeners-${i}`);
      expect(processListeners()).to.deep.equal(before);
    } finally {
      await running.close();
      await store.close();
    }
    expect(processListeners()).to.deep.equal(before);
  });

  it("stay the same through many validations by the tests' samlify schema validator", async () => {
    const before = processListeners();
    for (let i = 0; i < 15; i++) {
      const answer = await schemaValidator.validate('<not-saml/>').catch((err: unknown) => err);
      expect(answer).to.equal('ERR_EXCEPTION_VALIDATE_XML');
    }
    expect(processListeners()).to.deep.equal(before);
  });
});
