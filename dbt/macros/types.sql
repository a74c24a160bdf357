{#- 64-bit float on both engines. dbt.type_float() is FLOAT, which DuckDB reads as a
    32-bit REAL; the published contracts say DOUBLE PRECISION. -#}
{% macro type_double() -%}
    double precision
{%- endmacro %}
