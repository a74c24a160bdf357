-- Per customer who bought anything up to the run date: recency, frequency, monetary value,
-- mean unit price, and the channel / index group / department / colour they buy most
-- (by units; ties go to the smallest value so reruns agree).

with

transactions as (

    select * from {{ ref('stg_shop__transactions') }}
    where customer_id is not null

),

articles as (

    select * from {{ ref('stg_shop__articles') }}

),

purchases as (

    select
        transactions.customer_id,
        transactions.purchase_date,
        transactions.price,
        transactions.quantity as units,
        transactions.sales_channel_id,
        articles.index_group_name,
        articles.department_name,
        articles.colour_group_name
    from transactions
    left join articles on transactions.article_id = articles.article_id

),

totals as (

    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(distinct purchase_date) as frequency,
        cast(sum(units) as bigint) as units,
        sum(price * units) as monetary,
        sum(price * units) / nullif(sum(units), 0) as mean_unit_price
    from purchases
    group by customer_id

),

main_channel as (
    {{ top_value_by_units('purchases', 'customer_id', 'sales_channel_id') }}
),

preferred_index_group as (
    {{ top_value_by_units('purchases', 'customer_id', 'index_group_name') }}
),

preferred_department as (
    {{ top_value_by_units('purchases', 'customer_id', 'department_name') }}
),

preferred_colour as (
    {{ top_value_by_units('purchases', 'customer_id', 'colour_group_name') }}
),

aggregated as (

    select
        totals.customer_id,
        totals.first_purchase_date,
        totals.last_purchase_date,
        {{ days_before_run_date('totals.last_purchase_date') }} as recency_days,
        totals.frequency,
        totals.units,
        totals.monetary,
        totals.mean_unit_price,
        main_channel.sales_channel_id as main_sales_channel_id,
        preferred_index_group.index_group_name as preferred_index_group,
        preferred_department.department_name as preferred_department,
        preferred_colour.colour_group_name as preferred_colour
    from totals
    left join main_channel on totals.customer_id = main_channel.customer_id
    left join preferred_index_group on totals.customer_id = preferred_index_group.customer_id
    left join preferred_department on totals.customer_id = preferred_department.customer_id
    left join preferred_colour on totals.customer_id = preferred_colour.customer_id

)

select * from aggregated
