-- Units, revenue and distinct (known) customers per article and day, anonymous sales included.

with

transactions as (

    select * from {{ ref('stg_shop__transactions') }}

),

daily as (

    select
        article_id,
        purchase_date as sale_date,
        cast(sum(quantity) as bigint) as units,
        sum(price * quantity) as revenue,
        count(distinct customer_id) as customers
    from transactions
    group by article_id, purchase_date

)

select * from daily
