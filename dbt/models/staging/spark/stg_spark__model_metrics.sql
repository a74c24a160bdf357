with

source as (

    select * from {{ source('spark', 'model_metrics') }}

),

renamed as (

    select
        ---------- numerics
        cast(k as integer) as k,
        cast(precision_at_k as {{ type_double() }}) as precision_at_k,
        cast(recall_at_k as {{ type_double() }}) as recall_at_k,
        cast(map_at_k as {{ type_double() }}) as map_at_k,
        cast(ndcg_at_k as {{ type_double() }}) as ndcg_at_k,
        cast(catalog_coverage as {{ type_double() }}) as catalog_coverage,
        cast(novelty as {{ type_double() }}) as novelty,
        cast(diversity as {{ type_double() }}) as diversity,

        ---------- text
        model as recommendation_model,

        ---------- dates
        cast(run_date as date) as run_date

    from source
    -- outputs.* keeps every run's rows; this run only.
    where cast(run_date as date) = {{ run_date_sql() }}

)

select * from renamed
