-- One row per customer, with or without purchases: who they are (age band, opt-in,
-- region), what they buy (preferences, price band) and RFM numbers to the run date.

with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

purchases as (

    select * from {{ ref('int_customer_purchases_aggregated') }}

),

articles as (

    select * from {{ ref('article_features') }}

),

price_terciles as (

    -- The shop's article prices split in three equal parts, on prices rounded to
    -- cents (see the cents macro), as the customers' mean prices compared with them.
    select
        percentile_cont(1.0 / 3) within group (order by {{ cents('price') }}) as low_upper,
        percentile_cont(2.0 / 3) within group (order by {{ cents('price') }}) as mid_upper
    from articles
    where price is not null

),

profiles as (

    select
        ---------- ids
        customers.customer_id,
        customers.region,
        purchases.main_sales_channel_id,

        ---------- text
        customers.age_band,
        purchases.preferred_index_group,
        purchases.preferred_department,
        purchases.preferred_colour,
        case
            when purchases.mean_unit_price is null then null
            when {{ cents('purchases.mean_unit_price') }} <= price_terciles.low_upper then 'low'
            when {{ cents('purchases.mean_unit_price') }} <= price_terciles.mid_upper then 'mid'
            else 'high'
        end as price_band,
        customers.age_band || '|' || coalesce(purchases.preferred_index_group, 'any') as segment,

        ---------- numerics
        purchases.recency_days,
        coalesce(purchases.frequency, 0) as frequency,
        cast(coalesce(purchases.monetary, 0) as {{ type_double() }}) as monetary,

        ---------- booleans
        customers.is_opted_in,

        ---------- dates
        purchases.first_purchase_date,
        purchases.last_purchase_date

    from customers
    left join purchases on customers.customer_id = purchases.customer_id
    cross join price_terciles

)

select * from profiles
