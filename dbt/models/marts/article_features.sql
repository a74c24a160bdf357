-- One row per article: its attributes, sales to the run date, a price, and whether it is
-- new and sellable (what the recommender may propose).

with

articles as (

    select * from {{ ref('stg_shop__articles') }}

),

daily_sales as (

    select * from {{ ref('int_article_sales_daily') }}

),

sales_windows as (

    select
        daily_sales.*,
        {{ days_before_run_date('daily_sales.sale_date') }} as age_days,
        max(daily_sales.sale_date) over (partition by daily_sales.article_id) as article_last_sale_date
    from daily_sales

),

sales as (

    select
        article_id,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date,
        cast(sum(case when age_days < 7 then units else 0 end) as bigint) as units_7d,
        cast(sum(case when age_days < 28 then units else 0 end) as bigint) as units_28d,
        cast(sum(units) as bigint) as units_total,
        -- "Recent" price: the article's own 28 days of selling up to its last sale, so a
        -- slow seller still gets the price it last sold at.
        sum(case when {{ dbt.datediff('sale_date', 'article_last_sale_date', 'day') }} < 28 then revenue end)
            / nullif(sum(case when {{ dbt.datediff('sale_date', 'article_last_sale_date', 'day') }} < 28 then units end), 0)
            as recent_price
    from sales_windows
    group by article_id

),

joined as (

    select
        articles.*,
        sales.first_sale_date,
        sales.last_sale_date,
        coalesce(sales.units_7d, 0) as units_7d,
        coalesce(sales.units_28d, 0) as units_28d,
        coalesce(sales.units_total, 0) as units_total,
        sales.recent_price
    from articles
    left join sales on articles.article_id = sales.article_id

),

priced as (

    select
        joined.*,
        -- Never-sold articles take their product type's mean price, else the shop's.
        cast(coalesce(
            recent_price,
            avg(recent_price) over (partition by product_type_name),
            avg(recent_price) over ()
        ) as {{ type_double() }}) as price,
        -- New: first sold lately, or listed lately and not sold yet. A never-sold article
        -- listed long ago is not new (H&M's catalogue lists ~100k articles, most long gone).
        coalesce(
            case
                when first_sale_date is not null
                    then {{ days_before_run_date('first_sale_date') }} < {{ positive_var('new_article_days') }}
                else {{ days_before_run_date('first_seen_date') }} < {{ positive_var('new_article_days') }}
            end,
            false
        ) as is_new
    from joined

),

final as (

    select
        ---------- ids
        article_id,
        product_code,

        ---------- text
        prod_name,
        product_type_name,
        product_group_name,
        graphical_appearance_name,
        colour_group_name,
        perceived_colour_master_name,
        department_name,
        index_name,
        index_group_name,
        section_name,
        garment_group_name,
        detail_desc,

        ---------- numerics
        units_7d,
        units_28d,
        units_total,
        price,

        ---------- booleans
        is_new,
        -- On sale: sold within `sellable_days` before the run date, or newly listed and
        -- awaiting its first sale (cold-start articles reach customers by their content).
        coalesce(
            {{ days_before_run_date('last_sale_date') }} < {{ positive_var('sellable_days') }},
            false
        ) or (last_sale_date is null and is_new) as is_sellable,

        ---------- dates
        first_seen_date,
        first_sale_date,
        last_sale_date

    from priced

)

select * from final
