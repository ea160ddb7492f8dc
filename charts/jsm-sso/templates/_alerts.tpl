{{/*
The alert rules, as the `groups` of a Prometheus rule file. test/monitoring/alerts.test.ts renders
them and runs `promtool test rules` with test/monitoring/alerts.promtest.yaml; docs/monitoring.md
explains each alert and what to do.
*/}}
{{- define "jsm-sso.alertRules" -}}
{{- $r := .Values.metrics.prometheusRule -}}
groups:
  - name: jsm-sso.operator
    rules:
      - alert: JsmSsoTenantNotReady
        # Summed over the condition's non-True statuses per operator pod, then the largest pod's
        # count: only the leader reconciles, and a standby may report nothing.
        expr: |
          max by (namespace) (
            sum by (namespace, pod) (jsm_sso_operator_tenants{type="Ready", status!="True"})
          ) > 0
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $value {{ "}}" }} JsmSsoTenant(s) not Ready for 15 minutes"
          description: "Run `kubectl get jsmssotenants -A`; the Ready condition's reason and the ConfigValid, Applied, BrokerAvailable and PortalAvailable conditions say what to fix."
      - alert: JsmSsoReconcileErrors
        expr: |
          sum by (namespace, reason) (rate(jsm_sso_operator_reconcile_errors_total[5m])) > 0
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "jsm-sso operator reconciles keep failing ({{ "{{" }} $labels.reason {{ "}}" }})"
          description: "Reconciles have failed with reason {{ "{{" }} $labels.reason {{ "}}" }} for 15 minutes; see the operator's log lines (operator.reconcile_failed) with that reason and the Applied condition of the JsmSsoTenants and JsmSsoPools (`kubectl get jsmssotenants,jsmssopools -A`)."
      - alert: JsmSsoHeapNearLimit
        # Heap in use (garbage included) stays near V8's limit: the live heap is close to it, and
        # the process will soon spend its time collecting, then stop with "heap out of memory".
        expr: |
          max by (namespace, pod) (
            nodejs_heap_size_used_bytes / on (namespace, pod) jsm_sso_heap_limit_bytes
          ) > {{ $r.heapUsedRatio }}
        for: 15m
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $labels.pod {{ "}}" }} uses {{ "{{" }} $value | humanizePercentage {{ "}}" }} of its heap limit"
          description: "The heap has stayed above {{ mulf $r.heapUsedRatio 100 }}% of its limit for 15 minutes. For the operator, raise nodeOptions (--max-old-space-size) and resources.limits.memory together, as the sizing table in operator/README.md says for the number of tenants; for a pool, its pod settings."
  - name: jsm-sso.tenants
    rules:
      - alert: JsmSsoSignInsRefused
        expr: |
          (
            sum by (tenant) (rate(jsm_sso_broker_logins_total{result="refused"}[15m]))
            /
            sum by (tenant) (rate(jsm_sso_broker_logins_total[15m]))
          ) > {{ $r.refusedSignInRatio }}
          and
          sum by (tenant) (increase(jsm_sso_broker_logins_total[15m])) >= 10
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $value | humanizePercentage {{ "}}" }} of sign-ins for {{ "{{" }} $labels.tenant {{ "}}" }} are refused"
          description: "More than {{ mulf $r.refusedSignInRatio 100 }}% of brokered sign-ins were refused over 15 minutes. jsm_sso_broker_refusals_total by reason and the broker's broker.refusal log lines name the check that refuses (an IdP certificate or issuer change, a clock skew, an attack)."
      - alert: JsmSsoIdpKeysUnreadable
        # A broker pod tries again once a minute while reads of an IdP's keys fail (ADR 0151), so the
        # increase stays above 0 for as long as they do; one failed read alone is over in 15 minutes.
        expr: |
          max by (tenant, idp, keys) (increase(jsm_sso_broker_idp_key_reads_failed_total[15m])) > 0
        for: 20m
        labels:
          severity: warning
        annotations:
          summary: "The broker cannot read the {{ "{{" }} $labels.keys {{ "}}" }} of IdP {{ "{{" }} $labels.idp {{ "}}" }} ({{ "{{" }} $labels.tenant {{ "}}" }})"
          description: "Reads of the IdP's signing keys (its JWKS or SAML metadata) have failed for 20 minutes. Sign-ins use the last copy read, for a day at most and SAML metadata never past its validUntil, then are refused; meanwhile a key the IdP rotates in or withdraws goes unseen. The broker's broker.idp_keys_stale line has the reason; check the IdP's jwks_uri or metadataUrl from a broker pod (network policy, TLS, the IdP's status)."
      - alert: JsmSsoAtlassianErrors
        expr: |
          (
            sum by (tenant) (rate(jsm_sso_portal_atlassian_calls_total{status=~"429|5..|timeout|network|unsent|busy"}[10m]))
            /
            sum by (tenant) (rate(jsm_sso_portal_atlassian_calls_total[10m]))
          ) > {{ $r.atlassianErrorRatio }}
          and
          sum by (tenant) (increase(jsm_sso_portal_atlassian_calls_total[10m])) >= 20
        for: 10m
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $value | humanizePercentage {{ "}}" }} of Atlassian calls for {{ "{{" }} $labels.tenant {{ "}}" }} fail (429/5xx/timeout/busy)"
          description: "Atlassian answers 429 (rate limited) or 5xx, or does not answer, or the tenant's bulkhead is full (busy: the site is slow, or spec.atlassian.limits is too low), for more than {{ mulf $r.atlassianErrorRatio 100 }}% of the portal's calls. Check https://status.atlassian.com and the service account's API token; portal pages show a friendly error meanwhile."
      - alert: JsmSsoFlowStoreRefusing
        # Redis answers, so every pod stays Ready (its PING is served), yet it refuses what sign-ins
        # and forms write: full, or refusing the command itself (ADR 0205). No ratio: every such
        # request fails, and nothing but an operator (or entries expiring) ends it.
        expr: |
          sum by (tenant, reason) (
            increase(jsm_sso_broker_errors_total{reason=~"FLOW_STORE_FULL|FLOW_STORE_REFUSED"}[5m])
            or
            increase(jsm_sso_portal_errors_total{reason=~"FLOW_STORE_FULL|FLOW_STORE_REFUSED"}[5m])
          ) > 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "The flow store refuses requests of {{ "{{" }} $labels.tenant {{ "}}" }} ({{ "{{" }} $labels.reason {{ "}}" }})"
          description: "Sign-ins or forms have failed for 5 minutes because the flow store refuses to write. FLOW_STORE_FULL: Redis holds its maxmemory and evicts nothing (give it room: maxmemory, or a volatile-ttl policy, every jsm-sso key expires), or a part without Redis holds its in-memory entry limit (a flood of sign-in starts). FLOW_STORE_REFUSED: the broker.unavailable and portal.error lines name Redis's error (redisError, e.g. NOPERM, WRONGTYPE, MISCONF) and the command: grant the ACL user the command, or fix what the error names."
      - alert: JsmSsoFlowStoreSessionsEvicted
        # A part without Redis at its in-memory entry limit makes room out of its oldest sessions
        # rather than refuse sign-ins (ADR 0357): nothing fails, so nothing else fires, but those
        # sessions no longer end with their IdP's logout. One eviction already says the store is full.
        expr: |
          sum by (tenant) (increase(jsm_sso_flow_store_sessions_evicted_total[1h])) > 0
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $labels.tenant {{ "}}" }} signs in more people per session lifetime than its in-memory state holds: its oldest sessions were evicted"
          description: "A part of this tenant runs without Redis (no spec.redis; a pool without the pool's Redis) and its in-memory flow store held its entry limit (20,000; a pool tenant its share) within the last hour, so it made room for new sign-ins out of its oldest sessions (ADR 0357). Sign-ins go on; an IdP's logout no longer reaches the evicted sessions, whose portal sessions end by their own idle and absolute timeouts. The first eviction is logged once, FLOW_STORE_SESSIONS_EVICTED. Give the tenant spec.redis (and more than one replica), or shorten spec.portal.session.absoluteTimeoutSeconds; if it follows a flood of sign-in starts, find the source in the ingress access log for its host."
      - alert: JsmSsoPoolTenantShareUsed
        # One pooled tenant past its own share (ADRs 0197, 0211, 0215, 0220): only its requests are refused,
        # so the pool is healthy and nothing else fires; the tenant's own customers wait.
        expr: |
          sum by (tenant, reason) (
            increase(jsm_sso_portal_pool_share_refusals_total[5m])
            or
            increase(jsm_sso_pool_flow_store_refusals_total{reason="FLOW_STORE_TENANT_FULL"}[5m])
          ) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "{{ "{{" }} $labels.tenant {{ "}}" }} has used its share of its pool ({{ "{{" }} $labels.reason {{ "}}" }}); its requests past it are refused"
          description: "The pool refuses this tenant's requests past its own share, and no other tenant's. FLOW_STORE_TENANT_FULL: it started its share of sign-ins within one flow lifetime (the pool's spec.portal.signInStartsPerTenant, 6,000 by default), or holds its share of sessions in the pool's Redis (spec.portal.sessionsPerTenant, 50,000 by default; the portal's log line says which), or, in a pool without Redis, holds 6,000 entries: a flood of its sign-in page from many addresses, sign-ins scripted at its own IdP, or more load than a pool is for; its customers' new sign-ins wait. Find the source in its ingress access log for its host; a tenant whose own load needs more gets a larger share (signInStartsPerTenant, sessionsPerTenant) or dedicated placement. PORTAL_POOL_SHARE_UPLOADS_BUSY: its forms hold a quarter of the pool's upload spool (its Atlassian site is slow, or large uploads); raise the pool's spec.portal.uploadSpool.maxMiB if its load is real."
      - alert: JsmSsoSignInStartsCeilingReached
        # A tenant past its own ceiling on sign-in starts (ADR 0256): its new sign-ins wait, and
        # nothing else fires (the store is not full, which is what the ceiling is for).
        expr: |
          sum by (tenant) (increase(jsm_sso_portal_errors_total{reason="PORTAL_SIGN_IN_STARTS_FULL"}[5m])) > 0
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "New sign-ins at {{ "{{" }} $labels.tenant {{ "}}" }} are refused: it started as many as its spec.portal.limits.signInStarts.perTenant lets"
          description: "The tenant's portal has started as many sign-ins, from all addresses together, as its ceiling lets within one flow lifetime (spec.portal.limits.signInStarts.perTenant, 6,000 by default; ADR 0256), and refuses new ones until the window turns: customers are asked to try again in a minute, those signed in go on, and its flow store keeps its room. Usually a flood of its sign-in page from many addresses: find the source in the ingress access log for its host and block it there. If the load is real, raise perTenant and size the tenant's Redis for twice it at once (about 1.8 KB a start, the portal's flow and the broker's)."
      - alert: JsmSsoSigningCertificateExpiring
        expr: |
          min by (tenant, part) (jsm_sso_signing_certificate_expiry_timestamp_seconds{slot="current"}) - time()
            < {{ $r.certificateExpiryWarningDays }} * 86400
        for: 1h
        labels:
          severity: warning
        annotations:
          summary: "The {{ "{{" }} $labels.part {{ "}}" }} SAML signing certificate of {{ "{{" }} $labels.tenant {{ "}}" }} expires in {{ "{{" }} $value | humanizeDuration {{ "}}" }}"
          description: "Rotate it before it expires: docs/production.md, signing-key rotation runbook."
      - alert: JsmSsoSigningCertificateExpiring
        expr: |
          min by (tenant, part) (jsm_sso_signing_certificate_expiry_timestamp_seconds{slot="current"}) - time()
            < {{ $r.certificateExpiryCriticalDays }} * 86400
        for: 1h
        labels:
          severity: critical
        annotations:
          summary: "The {{ "{{" }} $labels.part {{ "}}" }} SAML signing certificate of {{ "{{" }} $labels.tenant {{ "}}" }} expires in {{ "{{" }} $value | humanizeDuration {{ "}}" }}"
          description: "Sign-ins stop being accepted by peers that check certificate validity once it expires. Rotate it now: docs/production.md, signing-key rotation runbook."
{{- end -}}
