{#- For each `partition_by` key, the value of `value_column` with the most units
    (ties: the smallest value, so the answer is deterministic). `purchases` is a
    relation or CTE name with columns partition_by, value_column and units.
    Returns a select of (partition_by, value_column). -#}
{% macro top_value_by_units(purchases, partition_by, value_column, units='units') -%}
    select {{ partition_by }}, {{ value_column }}
    from (
        select
            {{ partition_by }},
            {{ value_column }},
            row_number() over (
                partition by {{ partition_by }}
                order by sum({{ units }}) desc, {{ value_column }}
            ) as value_rank
        from {{ purchases }}
        where {{ value_column }} is not null
        group by {{ partition_by }}, {{ value_column }}
    ) as ranked_values
    where value_rank = 1
{%- endmacro %}
