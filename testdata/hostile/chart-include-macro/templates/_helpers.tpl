{% macro again(ctx) %}{{ include("again", ctx) }}{% endmacro %}
