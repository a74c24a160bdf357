{#- The run's day. Everything is relative to it, never to current_date, so a rerun or a
    backfill of an old day gives the same answer. -#}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "dbt var 'run_date' is missing: pass it as --vars '{\"run_date\": \"YYYY-MM-DD\"}' "
                ~ "(shopguide.dbt_runner.run_dbt does this for you)") }}
        {%- endif -%}
        {#- Parsing only (no SQL is run): any well-formed date will do. -#}
        {{ return('1970-01-01') }}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var 'run_date' is " ~ value ~ ": expected a day as YYYY-MM-DD, e.g. 2020-09-22") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- run_date as an SQL date literal, valid on DuckDB and PostgreSQL. -#}
{% macro run_date_sql() -%}
    cast('{{ run_date() }}' as date)
{%- endmacro %}

{#- Whole days from `earlier` to the run date (0 on the run date itself). -#}
{% macro days_before_run_date(earlier) -%}
    {{ dbt.datediff(earlier, run_date_sql(), 'day') }}
{%- endmacro %}

{#- A numeric project var that must be a positive number; fails the compile with the
    var's name otherwise. -#}
{% macro positive_var(name) -%}
    {%- set raw = var(name) -%}
    {%- set number = raw | float(-1) -%}
    {%- if number <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "dbt var '" ~ name ~ "' is " ~ raw ~ ": it must be a positive number") }}
    {%- endif -%}
    {{ return(raw) }}
{%- endmacro %}
