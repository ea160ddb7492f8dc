/**
 * The portal as a SAML service provider toward the broker: SP-initiated SSO (signed AuthnRequest
 * over HTTP-Redirect), the ACS (every check in common/saml validateSamlResponse), and single logout
 * started by the portal (signed LogoutRequest, the broker's LogoutResponse checked by common/saml
 * acceptProtocolMessage), and the broker's back-channel LogoutRequest over SOAP (ADR 0150: every
 * check of acceptProtocolMessage, answered with a signed LogoutResponse). Messages are built and
 * checked in common/saml; this module holds the keys and the expectations.
 */

import { createPrivateKey } from 'node:crypto';
import type { FlowStore } from '../../common/flowstore/index.js';
import { decodePostedMessage } from '../../common/saml/deflate.js';
import {
  acceptProtocolMessage,
  acceptRetriableLogoutRequest,
  authnRequest,
  buildSpMetadata,
  type ExpectedMessage,
  type HopSignatureAlgorithm,
  hopSigningAlgorithm,
  type LogoutResponseContent,
  logoutRequest,
  logoutRequestSubject,
  logoutResponse,
  logoutSucceeded,
  type NameIdQualifiers,
  type RetriableLogoutRequest,
  SamlError,
  type SignatureAlgorithmUri,
  signedRedirectUrl,
  signedSoapMessage,
  type ValidatedAssertion,
  validateSamlResponse,
} from '../../common/saml/index.js';
import type { BrokerCertificateSource } from './broker-certificates.js';

export interface ServiceProviderOptions {
  portalUrl: string;
  brokerUrl: string;
  signingKeyPem: string;
  signingCertPem: string;
  brokerCertificates: BrokerCertificateSource;
  replayStore: FlowStore;
  /**
   * The hop's one algorithm (`spec.signatureAlgorithm`): the portal's key must fit it (checked here,
   * at start-up), and the broker's messages are accepted signed with it only.
   */
  signatureAlgorithm: HopSignatureAlgorithm;
}

export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
}

/** Whom the portal's LogoutRequest signs out at the broker: the NameID and SessionIndex it was given. */
export interface SessionSubject {
  nameId: string;
  nameIdFormat?: string | undefined;
  /** Written back as asserted, so that the NameID strongly matches (profiles 4.4.4.1; ADR 0382). */
  nameIdQualifiers?: NameIdQualifiers | undefined;
  sessionIndex?: string | undefined;
}

/** A message sent to the broker: where the browser goes, and the ID the broker's answer must name. */
export interface SentMessage {
  url: string;
  requestId: string;
}

export class ServiceProvider {
  readonly endpoints: SpEndpoints;
  readonly brokerEntityId: string;
  readonly #o: ServiceProviderOptions;
  /** The URI of the hop's algorithm: what the portal signs with and all it accepts. */
  readonly #algorithm: SignatureAlgorithmUri;

  constructor(options: ServiceProviderOptions) {
    this.#o = options;
    this.#algorithm = hopSigningAlgorithm(
      createPrivateKey(options.signingKeyPem),
      options.signatureAlgorithm,
    );
    this.endpoints = {
      entityId: `${options.portalUrl}/saml/metadata`,
      acsUrl: `${options.portalUrl}/saml/acs`,
      sloUrl: `${options.portalUrl}/saml/slo`,
    };
    this.brokerEntityId = `${options.brokerUrl}/saml/metadata`;
  }

  metadata(): string {
    return buildSpMetadata({
      entityId: this.endpoints.entityId,
      acsUrl: this.endpoints.acsUrl,
      sloUrl: this.endpoints.sloUrl,
      soapSloUrl: this.endpoints.sloUrl,
      signingCertPem: this.#o.signingCertPem,
    });
  }

  /**
   * A signed AuthnRequest; its ID is bound to the browser's login flow. `uiLocales`: the language
   * of the portal's pages, so that the broker's pages speak it too (ADR 0097).
   */
  authnRedirect(uiLocales: readonly string[] = []): SentMessage {
    const destination = `${this.#o.brokerUrl}/saml/sso`;
    const message = authnRequest({
      issuer: this.endpoints.entityId,
      destination,
      now: new Date(),
      acsUrl: this.endpoints.acsUrl,
      uiLocales,
    });
    return {
      url: signedRedirectUrl('SAMLRequest', destination, message, { keyPem: this.#o.signingKeyPem }),
      requestId: message.id,
    };
  }

  /** Validates a base64 SAMLResponse posted to the ACS for the AuthnRequest `inResponseTo`. */
  async acs(samlResponse: unknown, inResponseTo: string): Promise<ValidatedAssertion> {
    if (typeof samlResponse !== 'string' || samlResponse === '') {
      throw new SamlError('SAML_BINDING_INVALID', 'the POST carries no SAMLResponse');
    }
    return validateSamlResponse(
      decodePostedMessage(samlResponse),
      {
        idpEntityId: this.brokerEntityId,
        idpCertificatesPem: await this.#o.brokerCertificates.certificates(),
        idpSignatureAlgorithm: this.#algorithm,
        spEntityId: this.endpoints.entityId,
        acsUrl: this.endpoints.acsUrl,
        inResponseTo,
      },
      this.#o.replayStore,
    );
  }

  /** A signed LogoutRequest; the broker's LogoutResponse must answer its ID, and brings `relayState` back. */
  logoutRedirect(subject: SessionSubject, relayState: string): SentMessage {
    const destination = `${this.#o.brokerUrl}/saml/slo`;
    const message = logoutRequest({
      issuer: this.endpoints.entityId,
      destination,
      now: new Date(),
      ...subject,
    });
    return {
      url: signedRedirectUrl('SAMLRequest', destination, message, {
        keyPem: this.#o.signingKeyPem,
        relayState,
      }),
      requestId: message.id,
    };
  }

  /**
   * The broker's LogoutResponse to our LogoutRequest `inResponseTo` (undefined: we are waiting for
   * none, so any is unsolicited). `success` is false when the broker could not end the session at
   * the IdP (PartialLogout). The broker's own LogoutRequest comes back-channel over SOAP only
   * (`backchannelLogoutRequest`); one through the browser is refused.
   */
  async logoutResponse(rawQuery: string, inResponseTo: string | undefined): Promise<{ success: boolean }> {
    if (/(^|&)SAMLRequest=/.test(rawQuery)) {
      throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', 'the portal accepts only LogoutResponses');
    }
    const { root } = await acceptProtocolMessage(
      { kind: 'redirect', rawQuery },
      { type: 'LogoutResponse', inResponseTo, ...(await this.#fromBrokerToSlo()) },
      this.#o.replayStore,
    );
    return { success: logoutSucceeded(root) };
  }

  /**
   * The broker's LogoutRequest posted over SOAP (ADR 0150), with every check its front-channel
   * messages get: signature by the broker's key and algorithm, Issuer, Destination (our SLO URL),
   * IssueInstant, NotOnOrAfter and its ID once, spent by `once` after the logout (ADR 0164). Whom
   * it signs out, as it names them.
   */
  async backchannelLogoutRequest(
    envelope: string,
  ): Promise<
    ReturnType<typeof logoutRequestSubject> & { id: string } & Pick<RetriableLogoutRequest, 'once'>
  > {
    const { id, root, once } = acceptRetriableLogoutRequest(
      { kind: 'soap', envelope },
      await this.#fromBrokerToSlo(),
      this.#o.replayStore,
    );
    return { id, ...logoutRequestSubject(root), once };
  }

  /**
   * What every logout message from the broker must be, whatever its binding: issued by the broker,
   * signed by one of its certificates with the hop's algorithm, addressed to our SLO URL, checked now.
   */
  async #fromBrokerToSlo(): Promise<Omit<ExpectedMessage, 'type'>> {
    return {
      issuer: this.brokerEntityId,
      certificatesPem: await this.#o.brokerCertificates.certificates(),
      signatureAlgorithm: this.#algorithm,
      destination: this.endpoints.sloUrl,
      now: new Date(),
    };
  }

  /** The signed LogoutResponse (SOAP) to the broker's LogoutRequest `inResponseTo`. */
  backchannelLogoutResponse(
    inResponseTo: string,
    outcome: Exclude<LogoutResponseContent['outcome'], 'refused'>,
  ): string {
    const message = logoutResponse({
      issuer: this.endpoints.entityId,
      destination: `${this.#o.brokerUrl}/saml/slo`,
      now: new Date(),
      inResponseTo,
      outcome,
    });
    return signedSoapMessage(message, {
      keyPem: this.#o.signingKeyPem,
      certPem: this.#o.signingCertPem,
      signatureAlgorithm: this.#algorithm,
    });
  }
}
