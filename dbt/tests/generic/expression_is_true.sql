{#- Fails for every row where `expression` is not true (false or NULL). Usable on a
    model or on a column (column_name is then ignored: the expression names it). -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
