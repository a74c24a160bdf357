{#- 64-bit float on both engines. dbt.type_float() is FLOAT, which DuckDB reads as a
    32-bit REAL; the published contracts say DOUBLE PRECISION. -#}
{% macro type_double() -%}
    double precision
{%- endmacro %}

{#- A money amount rounded to cents, as a double. For bands and terciles: an amount
    computed by a parallel sum or mean (a product type's mean price, a customer's
    spend) moves in its last bits with the sum's order, so on the raw doubles a rerun,
    or the same run on another engine layout, could put a tie on the other side of a
    boundary. -#}
{% macro cents(expression) -%}
    cast(round(cast({{ expression }} as numeric(18, 4)), 2) as {{ type_double() }})
{%- endmacro %}
