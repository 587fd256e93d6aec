{{- define "ocicred.name" -}}ocicred{{- end -}}

{{- define "ocicred.labels" -}}
app.kubernetes.io/name: ocicred
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ocicred.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "ocicred.configSecret" -}}
{{ .Values.existingConfigSecret | default "ocicred-config" }}
{{- end -}}
