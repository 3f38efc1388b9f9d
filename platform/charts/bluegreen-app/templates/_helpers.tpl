{{/* The app name: names every object and is the app.kubernetes.io/name label. */}}
{{- define "bg.app" -}}
{{- required "values: app is required (sample-app | sample2-app)" .Values.app -}}
{{- end -}}

{{- define "bg.activeColor" -}}
{{- if not (has .Values.activeColor (list "blue" "green")) -}}
{{- fail (printf "values: activeColor must be blue or green, not %q" (toString .Values.activeColor)) -}}
{{- end -}}
{{- .Values.activeColor -}}
{{- end -}}

{{- define "bg.idleColor" -}}
{{- if eq (include "bg.activeColor" .) "blue" }}green{{ else }}blue{{ end -}}
{{- end -}}

{{/* Labels every object carries (conventions.md). */}}
{{- define "bg.labels" -}}
app.kubernetes.io/name: {{ include "bg.app" . }}
app.kubernetes.io/part-of: devops-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Pod template labels: nothing release- or chart-specific, so a chart upgrade or a switch never
     restarts pods; only a new tag or version for a colour rolls that colour. */}}
{{- define "bg.podLabels" -}}
app.kubernetes.io/name: {{ include "bg.app" .root }}
app.kubernetes.io/part-of: devops-platform
app.kubernetes.io/version: {{ include "bg.version" . | quote }}
color: {{ .color }}
{{- end -}}

{{/* Pod selector of one colour: exactly these labels, used by its Deployment, PDB and Service. */}}
{{- define "bg.selector" -}}
app.kubernetes.io/name: {{ include "bg.app" .root }}
color: {{ .color }}
{{- end -}}

{{/* Tag and version of one colour; version defaults to the tag. */}}
{{- define "bg.tag" -}}
{{- $c := index .root.Values .color -}}
{{- $tag := toString (required (printf "values: %s.tag is required" .color) $c.tag) -}}
{{- if eq $tag "latest" -}}
{{- fail (printf "values: %s.tag may not be latest (pin a version)" .color) -}}
{{- end -}}
{{- $tag -}}
{{- end -}}

{{/* Image of one colour: REPOSITORY:TAG, or REPOSITORY:TAG@DIGEST when the colour pins a digest
     (the tag stays for people and for conformance; the node pulls the digest, which cannot move). */}}
{{- define "bg.image" -}}
{{- $c := index .root.Values .color -}}
{{- required "values: image.repository is required" .root.Values.image.repository }}:{{ include "bg.tag" . }}
{{- with $c.digest }}@{{ . }}{{ end -}}
{{- end -}}

{{- define "bg.version" -}}
{{- $c := index .root.Values .color -}}
{{- default (include "bg.tag" .) (toString (default "" $c.version)) -}}
{{- end -}}
