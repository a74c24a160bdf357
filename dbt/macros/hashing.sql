{#- SHA-256 of a text expression as lowercase hex, on DuckDB and PostgreSQL (the same
    digest as shopguide.privacy.customer_hash). -#}
{% macro sha256_hex(expression) -%}
    {%- if target.type == 'postgres' -%}
        encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
    {%- else -%}
        sha256({{ expression }})
    {%- endif -%}
{%- endmacro %}

{#- The control group's cut: the first 4 hex digits of md5(customer | period) below
    this bound put the customer in the control group. `share` is 0 <= share < 1. -#}
{% macro control_bound(share) -%}
    {%- set number = share | float(-1) -%}
    {%- if number < 0 or number >= 1 -%}
        {{ exceptions.raise_compiler_error(
            "dbt var 'email_control_share' is " ~ share ~ ": a share from 0 to below 1") }}
    {%- endif -%}
    '{{ "%04x" | format((number * 65536) | round | int) }}'
{%- endmacro %}
