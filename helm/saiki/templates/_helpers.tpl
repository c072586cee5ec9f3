{{/*
Helpers of the saiki chart. Keep to the template subset that helm/.check/lib/gotemplate.mjs renders
(scripts/helm-check.sh fails loudly on anything else).
*/}}

{{/* Chart name, or nameOverride. */}}
{{- define "saiki.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's resources, and the Orleans cluster id: fullnameOverride, else the release name,
suffixed with the chart name unless the release name already contains it.
*/}}
{{- define "saiki.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart label value. */}}
{{- define "saiki.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (Deployment selectors are immutable). */}}
{{- define "saiki.selectorLabels" -}}
app.kubernetes.io/name: {{ include "saiki.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: silo
{{- end }}

{{/* Labels of every resource. */}}
{{- define "saiki.labels" -}}
helm.sh/chart: {{ include "saiki.chart" . }}
{{ include "saiki.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Image reference. */}}
{{- define "saiki.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* ServiceAccount of the pods. */}}
{{- define "saiki.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "saiki.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret holding the secret settings: existingSecret, or the chart's own. */}}
{{- define "saiki.secretName" -}}
{{- default (include "saiki.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* "true" when the pods reference s3-access-key and s3-secret-key. */}}
{{- define "saiki.s3Keys" -}}
{{- if not .Values.lake.s3.useIrsa }}
{{- if .Values.existingSecret }}
{{- if .Values.existingSecretKeys.s3Credentials }}true{{ end }}
{{- else if .Values.lake.s3.accessKey }}true
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the pods reference kafka-sasl-password. */}}
{{- define "saiki.kafkaSasl" -}}
{{- if .Values.existingSecret }}
{{- if .Values.existingSecretKeys.kafkaSaslPassword }}true{{ end }}
{{- else if .Values.kafka.saslPassword }}true
{{- end }}
{{- end }}

{{/* "true" when the pods reference privacy-hash-key. */}}
{{- define "saiki.privacyKey" -}}
{{- if .Values.existingSecret }}
{{- if .Values.existingSecretKeys.privacyHashKey }}true{{ end }}
{{- else if .Values.privacy.hashKey }}true
{{- end }}
{{- end }}

{{/* Where the tls.secretName volume is mounted in the silo container. */}}
{{- define "saiki.tlsMountPath" -}}
/etc/saiki/tls
{{- end }}

{{/* Number of write tokens (api-write-token-<i> keys). */}}
{{- define "saiki.writeTokenCount" -}}
{{- if .Values.existingSecret }}{{ .Values.existingSecretKeys.writeTokens | int }}{{ else }}{{ len .Values.api.writeTokens }}{{ end }}
{{- end }}

{{/* Number of read tokens (api-read-token-<i> keys). */}}
{{- define "saiki.readTokenCount" -}}
{{- if .Values.existingSecret }}{{ .Values.existingSecretKeys.readTokens | int }}{{ else }}{{ len .Values.api.readTokens }}{{ end }}
{{- end }}

{{/* Number of operator tokens (api-operator-token-<i> keys). */}}
{{- define "saiki.operatorTokenCount" -}}
{{- if .Values.existingSecret }}{{ .Values.existingSecretKeys.operatorTokens | int }}{{ else }}{{ len .Values.api.operatorTokens }}{{ end }}
{{- end }}

{{/*
Rules across values that the JSON schema cannot express. Included by the Deployment, so `helm install`,
`helm template` and `helm lint` refuse values that break them.
*/}}
{{- define "saiki.validate" -}}
{{- $grace := .Values.terminationGracePeriodSeconds | int }}
{{- $shutdown := .Values.shutdownTimeoutSeconds | int }}
{{- if le $grace $shutdown }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than shutdownTimeoutSeconds (%d): the silo host must finish handing grains over before Kubernetes kills the pod" $grace $shutdown) }}
{{- end }}
{{- $http := .Values.ports.http | int }}
{{- $silo := .Values.ports.silo | int }}
{{- $gateway := .Values.ports.gateway | int }}
{{- if or (eq $http $silo) (eq $http $gateway) (eq $silo $gateway) }}
{{- fail (printf "ports.http (%d), ports.silo (%d) and ports.gateway (%d) must differ" $http $silo $gateway) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- if gt (.Values.autoscaling.minReplicas | int) (.Values.autoscaling.maxReplicas | int) }}
{{- fail (printf "autoscaling.minReplicas (%d) must not exceed autoscaling.maxReplicas (%d)" (.Values.autoscaling.minReplicas | int) (.Values.autoscaling.maxReplicas | int)) }}
{{- end }}
{{- end }}
{{- if .Values.existingSecret }}
{{- if or .Values.cluster.connectionString .Values.lake.s3.accessKey .Values.lake.s3.secretKey .Values.kafka.saslPassword .Values.api.writeTokens .Values.api.operatorTokens .Values.api.readTokens .Values.privacy.hashKey }}
{{- fail (printf "existingSecret %q is set, so the chart creates no Secret: leave cluster.connectionString, lake.s3.accessKey/secretKey, kafka.saslPassword, api.writeTokens/operatorTokens/readTokens and privacy.hashKey empty, and declare the optional keys the Secret holds in existingSecretKeys" .Values.existingSecret) }}
{{- end }}
{{- end }}
{{- if and .Values.lake.s3.useIrsa (or .Values.lake.s3.accessKey .Values.lake.s3.secretKey) }}
{{- fail "lake.s3.useIrsa takes credentials from the pod identity: leave lake.s3.accessKey and lake.s3.secretKey empty" }}
{{- end }}
{{- if ne (empty .Values.lake.s3.accessKey) (empty .Values.lake.s3.secretKey) }}
{{- fail "lake.s3.accessKey and lake.s3.secretKey must be set together" }}
{{- end }}
{{- if and .Values.api.requireTokenForReads (eq (include "saiki.writeTokenCount" .) "0") (eq (include "saiki.operatorTokenCount" .) "0") }}
{{- fail "api.requireTokenForReads needs at least one token (api.writeTokens or api.operatorTokens, or existingSecretKeys.writeTokens/operatorTokens)" }}
{{- end }}
{{- if and (ne (include "saiki.readTokenCount" .) "0") (eq (include "saiki.writeTokenCount" .) "0") (eq (include "saiki.operatorTokenCount" .) "0") }}
{{- fail "api.readTokens are set but no write or operator token is: writes would stay open while reads need a token (the silo refuses this); set api.writeTokens or api.operatorTokens" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled is true but tls.secretName is empty: name an existing Secret of type kubernetes.io/tls in the release namespace holding tls.crt, tls.key and ca.crt (a cert-manager Certificate creates one), or set tls.enabled=false" }}
{{- end }}
{{- if and (eq (include "saiki.writeTokenCount" .) "0") (eq (include "saiki.operatorTokenCount" .) "0") (not .Values.api.allowOpenWrites) }}
{{- if .Values.existingSecret }}
{{- fail (printf "existingSecretKeys.writeTokens (or existingSecretKeys.operatorTokens) is 0: anyone who reaches the HTTP port could register and remove sources; put api-write-token-0 in Secret %q and set existingSecretKeys.writeTokens, or set api.allowOpenWrites=true to accept open writes" .Values.existingSecret) }}
{{- else }}
{{- fail "api.writeTokens (or api.operatorTokens) is empty: anyone who reaches the HTTP port could register and remove sources; set a token, or set api.allowOpenWrites=true to accept open writes" }}
{{- end }}
{{- end }}
{{- end }}
