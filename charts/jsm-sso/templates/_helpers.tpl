{{- define "jsm-sso.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* 55 characters: the metrics Service adds -metrics, and a Service's name is a DNS label (63). */}}
{{- define "jsm-sso.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "jsm-sso.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The metrics Service's name. A Service's name is a DNS-1035 label (a letter first, no dot), stricter
than the release names Helm takes (a digit first, dots): refused here, before helm install creates
anything, instead of by the API server after the ServiceAccount and the ClusterRole.
*/}}
{{- define "jsm-sso.metricsServiceName" -}}
{{- $name := printf "%s-metrics" (include "jsm-sso.fullname" .) -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "release name %q: the metrics Service would be named %q, and a Service's name must start with a letter and hold only lower-case letters, digits and '-'; use such a release name, or set fullnameOverride" .Release.Name $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/*
Annotations (dict "path" the values path "annotations" the map) as YAML. The API server refuses an
object whose annotations' keys and values add up to more than 256 KiB (ValidateAnnotationsSize),
which no per-key schema can see.
*/}}
{{- define "jsm-sso.annotations" -}}
{{- $size := 0 -}}
{{- range $key, $value := .annotations -}}
{{- $size = add $size (len $key) (len (toString $value)) -}}
{{- end -}}
{{- if gt $size 262144 -}}
{{- fail (printf "%s: its keys and values add up to %d bytes, over the 262144 (256 KiB) the API server takes on one object" .path $size) -}}
{{- end -}}
{{- toYaml .annotations -}}
{{- end -}}

{{- define "jsm-sso.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jsm-sso.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: operator
{{- end -}}

{{/*
An object's labels as one map, each key once: a key twice in a mapping is invalid YAML, which Helm
reads last-wins but kustomize's helmCharts and other YAML 1.2 readers refuse. The more specific
source wins, as the last one did: (dict "root" . "extra" an object's own labels: podLabels, a
monitor's labels) over commonLabels over the chart's own (app.kubernetes.io/part-of, version...).
The selector labels cannot be overridden: values.schema.json refuses them in commonLabels and podLabels.
*/}}
{{- define "jsm-sso.labelsWith" -}}
{{- $root := .root -}}
{{- $chart := fromYaml (include "jsm-sso.selectorLabels" $root) -}}
{{- $_ := set $chart "app.kubernetes.io/part-of" "jsm-sso" -}}
{{- $_ := set $chart "app.kubernetes.io/managed-by" $root.Release.Service -}}
{{- $_ := set $chart "app.kubernetes.io/version" (toString $root.Chart.AppVersion) -}}
{{- $_ := set $chart "helm.sh/chart" (printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_") -}}
{{- toYaml (merge (dict) (.extra | default dict) ($root.Values.commonLabels | default dict) $chart) -}}
{{- end -}}

{{- define "jsm-sso.labels" -}}
{{- include "jsm-sso.labelsWith" (dict "root" .) -}}
{{- end -}}

{{/*
The operator's ServiceAccount. An existing one (create=false) must be named, and not `default`: the
operator's rights (cluster-wide by default) bound to a namespace's `default` ServiceAccount would be
every pod's there that names none. values.schema.json refuses it too; this says so past
--skip-schema-validation.
*/}}
{{- define "jsm-sso.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jsm-sso.fullname" .) .Values.serviceAccount.name -}}
{{- else if or (not .Values.serviceAccount.name) (eq .Values.serviceAccount.name "default") -}}
{{- fail "serviceAccount.name: with serviceAccount.create=false, name the existing ServiceAccount the operator runs as (not `default`: the operator's rights would go to every pod of the namespace that names no ServiceAccount)" -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository:tag, and @digest when pinned: the runtime pulls by the digest, the tag stays for people. */}}
{{- define "jsm-sso.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- with .Values.image.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{/* tenantPodDefaults as JSON; without their own pull Secrets, tenants use the operator's. */}}
{{- define "jsm-sso.tenantPodDefaults" -}}
{{- $defaults := deepCopy (.Values.tenantPodDefaults | default dict) -}}
{{- if and (not $defaults.imagePullSecrets) .Values.imagePullSecrets -}}
{{- $_ := set $defaults "imagePullSecrets" .Values.imagePullSecrets -}}
{{- end -}}
{{- toJson $defaults -}}
{{- end -}}

{{/* What the operator does to the objects tenants own; no wildcard verbs. */}}
{{- define "jsm-sso.tenantRules" -}}
# Exactly what the operator calls (test/operator/rbac.test.ts asserts this set and runs the operator
# under it; ADR 0146). Owned objects are written by server-side apply (patch; create when the object
# does not exist yet) and removed with delete: no update, no deletecollection, no wildcard.
# patch on tenants only for the operator's finalizer on pooled tenants (cleanup in the pool's namespace).
- apiGroups: ["jsm-sso.io"]
  resources: ["jsmssotenants"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["jsm-sso.io"]
  resources: ["jsmssopools"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["jsm-sso.io"]
  resources: ["jsmssotenants/status", "jsmssopools/status"]
  verbs: ["patch"]
# Owned objects carry blockOwnerDeletion (a foreground deletion waits for them); where the
# OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift, hardened clusters) setting
# it needs update on the owner's finalizers. Nothing else is written there.
- apiGroups: ["jsm-sso.io"]
  resources: ["jsmssotenants/finalizers", "jsmssopools/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Secrets are read (watched as metadata only), and created for generated signing keys (never updated
# or deleted). update, patch and delete only for the projections of pooled tenants in a pool's
# namespace: the operator rewrites (PUT, so a key someone added goes too), marks as its tenant's
# deletion just before removing (a merge patch of one annotation, ADR 0390: no more than update
# allows) and removes only Secrets carrying its labels and the tenant's uid, never another
# (docs/decisions/0105). Cluster-wide only without watchNamespaces: docs/production.md section 1 and ADR 0146.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# A pool's ServiceAccount and the Role that lets it read Secrets in its own namespace. Granting that
# Role needs the same Secret permissions above (Kubernetes refuses escalation; no bind or escalate).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses", "networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["autoscaling"]
  resources: ["horizontalpodautoscalers"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# spec.redis.purgeOnDeletion (ADR 0427): a deleted tenant's purge Job, made, read while it runs (no
# watch: it is read again every few seconds for minutes at most) and deleted with its pod. Its
# NetworkPolicy is made with the networkpolicies verbs above.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "create", "delete"]
{{- end -}}
