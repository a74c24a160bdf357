-- One row per customer x article the customer bought (anonymous sales excluded), with a
-- recency-decayed weight: each unit counts 0.5 ** (age_days / half_life), where age_days
-- is how many days before the run date it was bought. 0.5 ** x is exp(-ln 2 * x) written
-- so that whole half-lives give exact values (1, 0.5, 0.25...).

with

transactions as (

    select * from {{ ref('stg_shop__transactions') }}
    where customer_id is not null

),

aged as (

    select
        customer_id,
        article_id,
        purchase_date,
        quantity,
        {{ days_before_run_date('purchase_date') }} as age_days
    from transactions

),

weighted as (

    select
        customer_id,
        article_id,
        cast(sum(quantity) as bigint) as purchases,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(
            quantity * power(
                cast(0.5 as {{ type_double() }}),
                cast(age_days as {{ type_double() }})
                    / cast({{ positive_var('recency_half_life_days') }} as {{ type_double() }})
            )
        ) as weight
    from aged
    group by customer_id, article_id

)

select * from weighted
