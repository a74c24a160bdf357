-- BI's article dimension for the run: names, product hierarchy, colour, price and
-- price band, new / sellable flags, first and last sale (contract:
-- shopguide.schema.PUBLISHED_TABLES['articles']).

with

articles as (

    select * from {{ ref('article_features') }}

),

price_terciles as (

    select
        -- On prices rounded to cents: many articles share one computed price (a
        -- product type's mean); see the cents macro.
        percentile_cont(1.0 / 3) within group (order by {{ cents('price') }}) as low_upper,
        percentile_cont(2.0 / 3) within group (order by {{ cents('price') }}) as mid_upper
    from articles
    where price is not null

)

select
    cast({{ run_date_sql() }} as date) as run_date,
    cast(articles.article_id as varchar) as article_id,
    cast(articles.product_code as bigint) as product_code,
    cast(articles.prod_name as varchar) as prod_name,
    cast(articles.product_type_name as varchar) as product_type_name,
    cast(articles.product_group_name as varchar) as product_group_name,
    cast(articles.graphical_appearance_name as varchar) as graphical_appearance_name,
    cast(articles.colour_group_name as varchar) as colour_group_name,
    cast(articles.perceived_colour_master_name as varchar) as perceived_colour_master_name,
    cast(articles.department_name as varchar) as department_name,
    cast(articles.index_name as varchar) as index_name,
    cast(articles.index_group_name as varchar) as index_group_name,
    cast(articles.section_name as varchar) as section_name,
    cast(articles.garment_group_name as varchar) as garment_group_name,
    cast(articles.price as double precision) as price,
    cast(
        case
            when articles.price is null then null
            when {{ cents('articles.price') }} <= price_terciles.low_upper then 'low'
            when {{ cents('articles.price') }} <= price_terciles.mid_upper then 'mid'
            else 'high'
        end as varchar
    ) as price_band,
    cast(articles.is_new as boolean) as is_new,
    cast(articles.is_sellable as boolean) as is_sellable,
    cast(articles.first_seen_date as date) as first_seen_date,
    cast(articles.first_sale_date as date) as first_sale_date,
    cast(articles.last_sale_date as date) as last_sale_date,
    cast(articles.units_7d as bigint) as units_7d,
    cast(articles.units_28d as bigint) as units_28d,
    cast(articles.units_total as bigint) as units_total
from articles
cross join price_terciles
