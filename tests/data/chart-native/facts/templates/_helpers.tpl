{{- define "facts.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
