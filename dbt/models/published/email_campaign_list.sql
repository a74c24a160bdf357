-- Marketing's email list for the run: opted-in customers only, each with their top
-- `email_top_n` recommendations and what the email shows of each article.
-- (contract: shopguide.schema.PUBLISHED_TABLES)

with

recommendations as (

    select * from {{ ref('stg_spark__recommendations') }}
    where recommendation_rank <= {{ positive_var('email_top_n') }}

),

customers as (

    select * from {{ ref('customer_profiles') }}
    where is_opted_in

),

articles as (

    select * from {{ ref('article_features') }}

),

email_list as (

    select
        cast(recommendations.run_date as date) as run_date,
        cast(recommendations.customer_id as varchar) as customer_id,
        cast(customers.age_band as varchar) as age_band,
        cast(recommendations.recommendation_rank as integer) as "rank",
        cast(recommendations.article_id as varchar) as article_id,
        cast(articles.prod_name as varchar) as prod_name,
        cast(articles.product_type_name as varchar) as product_type_name,
        cast(articles.colour_group_name as varchar) as colour_group_name,
        cast(articles.price as double precision) as price,
        cast(recommendations.reason as varchar) as reason
    from recommendations
    inner join customers on recommendations.customer_id = customers.customer_id
    inner join articles on recommendations.article_id = articles.article_id

)

select * from email_list
