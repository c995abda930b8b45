{{- define "name" -}}{{ .Release.Name }}-{{ .Values.name | printf "%s" }}{{- end -}}
{{- $x := 1 -}}
{{ range $i, $v := .Values.list }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ printf "%d:%v %T" $i $v $v }}{{ end }}
{{ with .Values.labels }}{{ range $k, $v := . }}{{ $k }}={{ $v }}{{ end }}{{ else }}none{{ end }}
{{ template "name" . }} {{ len .Values.list }} {{ index .Values.list 2 "x" }} {{ and .Values.on (not false) }}
{{/* a comment */}}{{ $x = 2 }}{{ $x }} {{ 1e6 }} {{ printf "%08.3f|%-5s|%q" 3.14159 "ab" "c\"d" }}
