"""An independent SAML peer (pysaml2) for the interop tests, served over loopback HTTP.

  peer.py sp  CONFIG_JSON   the portal's role: a pysaml2 SP (Saml2Client) toward the broker as IdP
  peer.py idp CONFIG_JSON   a tenant's upstream IdP: a pysaml2 IdP (saml2.server.Server) toward the broker as SP

CONFIG_JSON: {"brokerUrl", "keyFile", "certFile", "signAlg" (sp only: rsa-sha256 or ecdsa-sha256),
"user": {"nameId", "attributes"} (idp only), "spMetadataPath" (idp only: the broker's metadata to read,
default /saml/sp-metadata), "otherKeyFile"/"otherCertFile" (idp only: a key that is not the IdP's),
"encryption" (idp only: {"content": the EncryptionMethod URI of the assertion's content, "sessionKey":
xmlsec1's session key for it, "signResponse": whether the Response around it is signed too}: the
assertion is encrypted to the encryption certificate of the broker's SP metadata)}.
The server binds 127.0.0.1:0 and prints one JSON line {"url": ...} once it listens. Every peer is
strict: signatures required, unsolicited Responses refused, outstanding requests tracked. Failures are
answered as HTTP 400 with JSON {"error": exception class, "message": ...} so tests can name them.
"""

import json
import re
import shutil
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from xml.etree import ElementTree

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_SOAP, class_name, xmldsig
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.pack import make_soap_enveloped_saml_thingy
from saml2.response import StatusError
from saml2.samlp import logout_response_from_string
from saml2 import entity as saml2_entity
from saml2.sigver import pre_encryption_part, pre_signature_part, verify_redirect_signature
from saml2.soap import parse_soap_enveloped_saml_logout_response

# pysaml2 takes a SOAP Body's message out of its envelope by serialising it again with ElementTree
# (saml2/soap.py parse_soap_enveloped_saml_thingy), which names every namespace ns0, ns1, ... unless a
# prefix is registered for it; exclusive c14n keeps prefixes, so the digest of a message signed with
# any other prefixes no longer matches (pysaml2 issue #551, open). pysaml2's own remedy is to register
# the prefixes (SamlBase.register_prefix, the `nsprefix` of its message builders, a process-wide
# ElementTree setting): with the usual samlp/saml/ds registered, it verifies the broker's SOAP answer
# by its own code, as received. Its own messages are signed after serialising, so this changes no
# signature it makes.
for prefix, uri in {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": xmldsig.NAMESPACE,
}.items():
    ElementTree.register_namespace(prefix, uri)

SIGN_ALG = xmldsig.SIG_RSA_SHA256
DIGEST_ALG = xmldsig.DIGEST_SHA256
SP_SIGN_ALGS = {"rsa-sha256": xmldsig.SIG_RSA_SHA256, "ecdsa-sha256": xmldsig.SIG_ECDSA_SHA256}


def sp_sign_alg(options):
    """The SP role signs with the tenant's spec.signatureAlgorithm (CONFIG_JSON "signAlg", default rsa-sha256)."""
    return SP_SIGN_ALGS[options.get("signAlg", "rsa-sha256")]


def common_config(options, metadata_path):
    return {
        "entityid": None,
        "key_file": options["keyFile"],
        "cert_file": options["certFile"],
        "xmlsec_binary": shutil.which("xmlsec1"),
        "metadata": {"remote": [{"url": options["brokerUrl"] + metadata_path}]},
        "accepted_time_diff": 5,
        "allow_unknown_attributes": True,
    }


def sp_config(url, options):
    config = common_config(options, "/saml/metadata")
    config["entityid"] = f"{url}/saml/metadata"
    config["service"] = {
        "sp": {
            "endpoints": {
                "assertion_consumer_service": [(f"{url}/saml/acs", BINDING_HTTP_POST)],
                "single_logout_service": [(f"{url}/saml/slo", BINDING_HTTP_REDIRECT)],
            },
            "authn_requests_signed": True,
            "logout_requests_signed": True,
            "want_response_signed": True,
            "want_assertions_signed": True,
            "allow_unsolicited": False,
            "signing_algorithm": sp_sign_alg(options),
            "digest_algorithm": DIGEST_ALG,
        }
    }
    return config


def idp_config(url, options):
    config = common_config(options, options.get("spMetadataPath", "/saml/sp-metadata"))
    config["entityid"] = f"{url}/metadata"
    config["service"] = {
        "idp": {
            "endpoints": {
                "single_sign_on_service": [(f"{url}/sso", BINDING_HTTP_REDIRECT)],
                "single_logout_service": [(f"{url}/slo", BINDING_HTTP_REDIRECT)],
            },
            "want_authn_requests_signed": True,
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            "signing_algorithm": SIGN_ALG,
            "digest_algorithm": DIGEST_ALG,
            "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
        }
    }
    return config


def encrypt_with(server, encryption):
    """pysaml2 encrypts with 3DES-CBC and a 192-bit session key, fixed in its code (entity.py
    _encrypt_assertion, sigver.py encrypt_assertion): its template and xmlsec1's session key are set
    to the content algorithm asked for, RSA-OAEP-MGF1P (its default) carrying the key."""
    saml2_entity.pre_encryption_part = lambda **kwargs: pre_encryption_part(msg_enc=encryption["content"], **kwargs)
    encrypt = type(server.sec).encrypt_assertion
    server.sec.encrypt_assertion = lambda statement, enc_key, template, key_type=None, node_xpath=None: encrypt(
        server.sec, statement, enc_key, template, encryption["sessionKey"], node_xpath
    )


def redirect_request(parse, query, kind):
    """A request pysaml2 reads from the HTTP-Redirect binding, checking its query signature."""
    request = parse(
        query["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=query.get("RelayState"),
        sigalg=query.get("SigAlg"),
        signature=query.get("Signature"),
    )
    if request is None:
        raise ValueError(f"pysaml2 refused the {kind}")
    return request


class Peer:
    """Builds the pysaml2 entity on first use: the broker serves its metadata only after we listen."""

    def __init__(self, role, url, options):
        self.role, self.url, self.options = role, url, options
        self._entity = None
        self.outstanding = {}
        self.sessions = {}
        # IdP role: the SessionIndex of the latest assertion per NameID, for its LogoutRequest.
        self.session_indexes = {}

    @property
    def entity(self):
        if self._entity is None:
            if self.role == "sp":
                config = SPConfig()
                config.load(sp_config(self.url, self.options))
                self._entity = Saml2Client(config)
            else:
                config = IdPConfig()
                config.load(idp_config(self.url, self.options))
                self._entity = Server(config=config)
        return self._entity

    def broker_entity_id(self):
        return self.options["brokerUrl"] + "/saml/metadata"

    # -- SP (portal) role --------------------------------------------------------------------------

    def sp_login(self, query):
        binding = BINDING_HTTP_POST if query.get("binding") == "post" else BINDING_HTTP_REDIRECT
        request_id, info = self.entity.prepare_for_authenticate(
            entityid=self.broker_entity_id(),
            relay_state=query.get("relayState", "py-rs"),
            binding=binding,
            sign=True,
            sigalg=sp_sign_alg(self.options),
            digest_alg=DIGEST_ALG,
        )
        self.outstanding[request_id] = f"{self.url}/login"
        return info, {"requestId": request_id}

    def sp_acs(self, form):
        response = self.entity.parse_authn_request_response(form["SAMLResponse"], BINDING_HTTP_POST, self.outstanding)
        if response is None:
            raise ValueError("pysaml2 returned no response")
        self.outstanding.pop(response.in_response_to, None)
        name_id = response.assertion.subject.name_id
        self.sessions[name_id.text] = name_id
        return {
            "nameId": name_id.text,
            "nameIdFormat": name_id.format,
            "issuer": response.issuer(),
            "inResponseTo": response.in_response_to,
            "sessionIndex": response.session_info().get("session_index"),
            "attributes": response.ava,
            "relayState": form.get("RelayState"),
        }

    def sp_logout(self, query):
        name_id = self.sessions[query["nameId"]]
        answers = self.entity.global_logout(
            name_id, sign=True, sign_alg=sp_sign_alg(self.options), digest_alg=DIGEST_ALG
        )
        (binding, info), = answers.values()
        return info, {"binding": binding}

    def sp_slo(self, raw_query):
        query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        response = self.entity.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
        if response is None:
            raise ValueError("pysaml2 returned no LogoutResponse")
        # pysaml2 leaves the Redirect signature of a LogoutResponse to the caller: checked here with
        # the certificates of the broker's metadata, over the parameters as pysaml2 re-encodes them.
        issuer = response.issuer()
        certs = self.entity.metadata.certs(issuer, "any", "signing")
        signed = any(verify_redirect_signature(query, self.entity.sec.sec_backend, cert) for _, cert in certs)
        if not signed:
            raise ValueError("LogoutResponse Redirect signature does not verify")
        outcome = self.entity.handle_logout_response(
            response, sign_alg=sp_sign_alg(self.options), digest_alg=DIGEST_ALG
        )
        return {
            "issuer": issuer,
            "status": response.response.status.status_code.value,
            "inResponseTo": response.in_response_to,
            "outcome": str(outcome),
        }

    # -- IdP (upstream) role -----------------------------------------------------------------------

    def idp_metadata(self):
        config = IdPConfig()
        config.load({**idp_config(self.url, self.options), "metadata": {}})
        return create_metadata_string(None, config=config, sign=False).decode()

    def idp_sso(self, raw_query):
        query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        request = redirect_request(self.entity.parse_authn_request, query, "AuthnRequest")
        response_args = self.entity.response_args(request.message, [BINDING_HTTP_POST])
        user = self.options["user"]
        encryption = self.options.get("encryption")
        if encryption:
            encrypt_with(self.entity, encryption)
        response = self.entity.create_authn_response(
            user["attributes"],
            userid=user["nameId"],
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=user["nameId"]),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_assertion=True,
            sign_response=bool(encryption and encryption.get("signResponse")),
            encrypt_assertion=bool(encryption),
            sign_alg=SIGN_ALG,
            digest_alg=DIGEST_ALG,
            **response_args,
        )
        session_index = re.search(r'SessionIndex="([^"]+)"', str(response))
        if session_index:
            self.session_indexes[user["nameId"]] = session_index.group(1)
        info = self.entity.apply_binding(
            BINDING_HTTP_POST, str(response), response_args["destination"], query.get("RelayState", ""), response=True
        )
        return info, {"requestId": request.message.id, "requestXml": request.xmlstr.decode() if isinstance(request.xmlstr, bytes) else request.xmlstr}


    def idp_logout(self, query):
        """IdP-initiated logout: a LogoutRequest signed over the Redirect query, to the broker's SLO.
        It names the SessionIndex of the assertion issued to `sessionIndexOf` (default: the NameID
        itself), when there was one, as an IdP that keeps its sessions does (core 3.7.1)."""
        sp = self.options["brokerUrl"] + "/saml/sp-metadata"
        destination = self.entity.metadata.single_logout_service(sp, BINDING_HTTP_REDIRECT, "spsso")[0]["location"]
        name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=query["nameId"])
        session_index = self.session_indexes.get(query.get("sessionIndexOf", query["nameId"]))
        request_id, request = self.entity.create_logout_request(
            destination, sp, name_id=name_id, sign=False, session_indexes=[session_index] if session_index else None
        )
        info = self.entity.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, query.get("relayState", "idp-rs"), sign=True, sigalg=SIGN_ALG
        )
        return info, {"requestId": request_id}

    def idp_soap_logout(self, query):
        """IdP-initiated logout back-channel (bindings 3.2): a signed LogoutRequest in a SOAP envelope
        for the broker's SOAP SingleLogoutService, as its metadata for this IdP names it, with the
        SessionIndex as idp_logout has it. `send=1`: pysaml2 posts it (its own SOAP client) and reads
        the answer; otherwise the envelope is returned for the test to post. Forgeries for the attack
        tests, each applied before signing: `issuer`, `destination`, `issueInstant`, `notOnOrAfter`,
        `signWith` (idp, other: otherKeyFile with its certificate, none)."""
        sp = self.options["brokerUrl"] + "/saml/sp-metadata"
        soap_slo = self.entity.metadata.single_logout_service(sp, BINDING_SOAP, "spsso")[0]["location"]
        destination = query.get("destination", soap_slo)
        name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=query["nameId"])
        session_index = self.session_indexes.get(query.get("sessionIndexOf", query["nameId"]))
        request_id, request = self.entity.create_logout_request(
            destination, sp, name_id=name_id, sign=False, session_indexes=[session_index] if session_index else None,
            expire=query.get("notOnOrAfter"),
        )
        if "issuer" in query:
            request.issuer.text = query["issuer"]
        if "issueInstant" in query:
            request.issue_instant = query["issueInstant"]
        if "version" in query:
            request.version = query["version"]
        xml = str(request)
        sign_with = query.get("signWith", "idp")
        if sign_with != "none":
            key_file, cert_file = (
                (self.options["otherKeyFile"], self.options["otherCertFile"])
                if sign_with == "other"
                else (self.options["keyFile"], self.options["certFile"])
            )
            with open(cert_file) as cert:
                cert_data = "".join(line.strip() for line in cert if "-----" not in line)
            request.signature = pre_signature_part(request.id, cert_data, 1, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
            xml = self.entity.sec.sign_statement(str(request), class_name(request), key_file=key_file, node_id=request.id)
        if query.get("send") != "1":
            return {"requestId": request_id, "envelope": make_soap_enveloped_saml_thingy(xml)}
        info = self.entity.apply_binding(BINDING_SOAP, xml, destination)
        answer = self.entity.send(info["url"], method="POST", data=info["data"], headers=dict(info["headers"]))
        result = {"requestId": request_id, "httpStatus": answer.status_code, "body": answer.text}
        if answer.status_code != 200:
            return result
        # pysaml2's own reading of a SOAP LogoutResponse (Entity.parse_logout_request_response): the
        # signature with the certificates of the Issuer's metadata (xmlsec1), Version, IssueInstant,
        # then the status, a non-Success one raised as a StatusError once all else passed. It takes an
        # unsigned answer as well, so the signature's presence is required here first.
        response = logout_response_from_string(parse_soap_enveloped_saml_logout_response(answer.text))
        if response.signature is None:
            raise ValueError("the LogoutResponse is not signed")
        try:
            self.entity.parse_logout_request_response(answer.text, BINDING_SOAP)
        except StatusError:
            pass
        code = response.status.status_code
        return {
            **result,
            "status": code.value,
            "secondStatus": code.status_code.value if code.status_code else None,
            "inResponseTo": response.in_response_to,
            "issuer": response.issuer.text,
        }

    def idp_slo(self, raw_query):
        """The IdP's SLO endpoint: the broker's LogoutRequest is answered Success (signed), its
        LogoutResponse is read and its Redirect signature checked."""
        query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        if "SAMLRequest" in query:
            request = redirect_request(self.entity.parse_logout_request, query, "LogoutRequest")
            response = self.entity.create_logout_response(request.message, [BINDING_HTTP_REDIRECT], sign=False)
            info = self.entity.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(response),
                response.destination,
                query.get("RelayState", ""),
                response=True,
                sign=True,
                sigalg=SIGN_ALG,
            )
            message = request.message
            return info, {
                "nameId": message.name_id.text,
                "sessionIndexes": [index.text for index in message.session_index],
            }
        response = self.entity.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
        if response is None:
            raise ValueError("pysaml2 returned no LogoutResponse")
        certs = self.entity.metadata.certs(response.issuer(), "any", "signing")
        if not any(verify_redirect_signature(query, self.entity.sec.sec_backend, cert) for _, cert in certs):
            raise ValueError("LogoutResponse Redirect signature does not verify")
        code = response.response.status.status_code
        return None, {
            "status": code.value,
            "secondStatus": code.status_code.value if code.status_code else None,
            "inResponseTo": response.in_response_to,
            "relayState": query.get("RelayState"),
        }


def handler_for(peer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args):
            pass

        def send(self, status, body, content_type="application/json", headers=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def send_binding(self, info, extra):
            """pysaml2's http_info: a redirect (Location header) or an auto-post HTML form."""
            headers = [(k, v) for k, v in info["headers"] if k.lower() == "location"]
            if headers:
                self.send(302, json.dumps(extra), headers=[*headers, ("x-peer", json.dumps(extra))])
            else:
                self.send(200, info["data"], "text/html", headers=[("x-peer", json.dumps(extra))])

        def route(self, method):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            try:
                if method == "GET" and parts.path == "/login":
                    self.send_binding(*peer.sp_login(query))
                elif method == "POST" and parts.path == "/saml/acs":
                    length = int(self.headers.get("content-length", "0"))
                    form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                    self.send(200, json.dumps(peer.sp_acs(form)))
                elif method == "GET" and parts.path == "/logout":
                    self.send_binding(*peer.sp_logout(query))
                elif method == "GET" and parts.path == "/saml/slo":
                    self.send(200, json.dumps(peer.sp_slo(parts.query)))
                elif method == "GET" and parts.path == "/metadata":
                    self.send(200, peer.idp_metadata(), "application/samlmetadata+xml")
                elif method == "GET" and parts.path == "/sso":
                    self.send_binding(*peer.idp_sso(parts.query))
                elif method == "GET" and parts.path == "/idp-logout":
                    self.send_binding(*peer.idp_logout(query))
                elif method == "GET" and parts.path == "/idp-soap-logout":
                    self.send(200, json.dumps(peer.idp_soap_logout(query)))
                elif method == "GET" and parts.path == "/slo":
                    info, extra = peer.idp_slo(parts.query)
                    if info is None:
                        self.send(200, json.dumps(extra))
                    else:
                        self.send_binding(info, extra)
                else:
                    self.send(404, json.dumps({"error": "NotFound", "message": self.path}))
            except Exception as exc:  # noqa: BLE001 - every refusal goes back to the test
                traceback.print_exc(file=sys.stderr)
                self.send(400, json.dumps({"error": type(exc).__name__, "message": str(exc)}))

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

    return Handler


def main():
    role, options = sys.argv[1], json.loads(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = handler_for(Peer(role, url, options))
    print(json.dumps({"url": url}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
