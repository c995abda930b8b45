{% macro web_fullname(ctx) -%}
{{ (ctx.Release.Name ~ "-" ~ ctx.Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- endmacro %}

{% macro web_labels(ctx) -%}
app.kubernetes.io/name: {{ ctx.Chart.Name }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
app.kubernetes.io/version: {{ ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ ctx.Release.Service }}
team: {{ ctx.Values.global.team }}
{%- endmacro %}

{% macro web_selector(ctx) -%}
app.kubernetes.io/name: {{ ctx.Chart.Name }}
app.kubernetes.io/instance: {{ ctx.Release.Name }}
{%- endmacro %}
