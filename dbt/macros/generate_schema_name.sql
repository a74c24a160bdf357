{#- Custom schemas are used verbatim (staging, intermediate, marts, publish_candidates),
    not prefixed with the target schema: the pipeline and BI address them by name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
