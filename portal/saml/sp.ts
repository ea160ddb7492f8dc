/**
 * The portal as a SAML service provider toward the broker: SP-initiated SSO (signed AuthnRequest
 * over HTTP-Redirect), the ACS (every check in common/saml validateSamlResponse), and single logout
 * both ways over HTTP-Redirect. Message building is in messages.ts; this module holds the keys and
 * the expectations.
 */

import type { FlowStore } from '../../common/flowstore/index.js';
import { decodeBase64 } from '../../common/saml/deflate.js';
import { SamlError } from '../../common/saml/errors.js';
import { buildSpMetadata } from '../../common/saml/metadata.js';
import { NS } from '../../common/saml/namespaces.js';
import { signRedirectQuery, verifyRedirectSignature } from '../../common/saml/redirect-binding.js';
import { type ValidatedAssertion, validateSamlResponse } from '../../common/saml/response.js';
import { attribute, childElements, parseSamlXml, simpleText } from '../../common/saml/xml.js';
import type { BrokerCertificateSource } from './broker-certificates.js';
import {
  authnRequestXml,
  logoutRequestXml,
  newMessageId,
  type SessionSubject,
  type SpEndpoints,
  spEndpoints,
} from './messages.js';

export interface ServiceProviderOptions {
  portalUrl: string;
  brokerUrl: string;
  signingKeyPem: string;
  signingCertPem: string;
  brokerCertificates: BrokerCertificateSource;
  replayStore: FlowStore;
}

export class ServiceProvider {
  readonly endpoints: SpEndpoints;
  readonly brokerEntityId: string;
  readonly #o: ServiceProviderOptions;

  constructor(options: ServiceProviderOptions) {
    this.#o = options;
    this.endpoints = spEndpoints(options.portalUrl);
    this.brokerEntityId = `${options.brokerUrl}/saml/metadata`;
  }

  metadata(): string {
    return buildSpMetadata({
      entityId: this.endpoints.entityId,
      acsUrl: this.endpoints.acsUrl,
      sloUrl: this.endpoints.sloUrl,
      signingCertPem: this.#o.signingCertPem,
    });
  }

  /** The redirect URL of a signed AuthnRequest, and its ID to bind to the browser's login flow. */
  authnRedirect(): { url: string; requestId: string } {
    const requestId = newMessageId();
    const destination = `${this.#o.brokerUrl}/saml/sso`;
    const query = signRedirectQuery('SAMLRequest', authnRequestXml(this.endpoints, destination, requestId), {
      keyPem: this.#o.signingKeyPem,
    });
    return { url: `${destination}?${query}`, requestId };
  }

  /** Validates a base64 SAMLResponse posted to the ACS for the AuthnRequest `inResponseTo`. */
  async acs(samlResponse: unknown, inResponseTo: string): Promise<ValidatedAssertion> {
    if (typeof samlResponse !== 'string' || samlResponse === '') {
      throw new SamlError('SAML_BINDING_INVALID', 'the POST carries no SAMLResponse');
    }
    const xml = decodeBase64(samlResponse).toString('utf8');
    return validateSamlResponse(
      xml,
      {
        idpEntityId: this.brokerEntityId,
        idpCertificatesPem: await this.#o.brokerCertificates.certificates(),
        spEntityId: this.endpoints.entityId,
        acsUrl: this.endpoints.acsUrl,
        inResponseTo,
      },
      this.#o.replayStore,
    );
  }

  logoutRedirect(subject: SessionSubject, relayState?: string): string {
    const destination = `${this.#o.brokerUrl}/saml/slo`;
    const xml = logoutRequestXml(this.endpoints, destination, newMessageId(), subject);
    return `${destination}?${signRedirectQuery('SAMLRequest', xml, { keyPem: this.#o.signingKeyPem, ...(relayState ? { relayState } : {}) })}`;
  }

  /**
   * The broker's LogoutResponse to our LogoutRequest: signature with the broker's keys only, issuer
   * and destination checked. The broker never sends the portal a LogoutRequest, so one is refused
   * (docs/decisions/0050-no-broker-initiated-logout-at-the-portal.md).
   */
  async sloResponse(rawQuery: string): Promise<{ relayState?: string | undefined }> {
    if (/(^|&)SAMLRequest=/.test(rawQuery)) {
      throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', 'the portal accepts only LogoutResponses');
    }
    const certificates = await this.#o.brokerCertificates.certificates();
    const verified = verifyRedirectSignature(rawQuery, 'SAMLResponse', certificates);
    const root = parseSamlXml(verified.xml).documentElement!;
    if (root.namespaceURI !== NS.protocol || root.localName !== 'LogoutResponse') {
      throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', 'expected a LogoutResponse');
    }
    const issuer = childElements(root as never, NS.assertion, 'Issuer')[0];
    if (!issuer || simpleText(issuer) !== this.brokerEntityId)
      throw new SamlError('SAML_ISSUER_MISMATCH', 'not from the broker');
    const destination = attribute(root as never, 'Destination');
    if (destination !== undefined && destination !== this.endpoints.sloUrl) {
      throw new SamlError('SAML_DESTINATION_MISMATCH', 'the logout message is for another endpoint');
    }
    return { relayState: verified.relayState };
  }
}
