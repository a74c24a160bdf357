-- Marketing's email list for the run: opted-in, not suppressed customers, each with
-- their top `email_top_n` recommendations and what the email shows of each article.
-- A customer who asked for monthly news is left out when an earlier run within 30
-- days listed them. A deterministic share (`email_control_share`) of the eligible
-- customers, hashed on customer and campaign period (the run date's month), is the
-- control group: listed, not sent, so uplift can be measured.
-- (contract: shopguide.schema.PUBLISHED_TABLES)

with

recommendations as (

    select * from {{ ref('stg_spark__recommendations') }}
    where recommendation_rank <= {{ positive_var('email_top_n') }}

),

customers as (

    select
        profiles.customer_id,
        profiles.age_band,
        shop_customers.fashion_news_frequency
    from {{ ref('customer_profiles') }} as profiles
    inner join {{ ref('stg_shop__customers') }} as shop_customers
        on profiles.customer_id = shop_customers.customer_id
    where profiles.is_opted_in

),

suppressed as (

    select customer_id from {{ ref('stg_consent__suppressions') }}
    where customer_id is not null

),

suppressed_hashes as (

    select customer_hash from {{ ref('stg_consent__suppressions') }}

),

listed_lately as (

    -- Listed by a run within the last 30 days (the run date itself excluded: a rerun).
    select distinct customer_id from {{ ref('stg_consent__email_listings') }}
    where listed_run_date > {{ run_date_sql() }} - 30

),

eligible as (

    select customers.*
    from customers
    where customers.customer_id not in (select customer_id from suppressed)
        and {{ sha256_hex('customers.customer_id') }} not in (select customer_hash from suppressed_hashes)
        and not (
            customers.fashion_news_frequency = 'Monthly'
            and customers.customer_id in (select customer_id from listed_lately)
        )

),

articles as (

    select * from {{ ref('article_features') }}

),

email_list as (

    select
        cast(recommendations.run_date as date) as run_date,
        cast(recommendations.customer_id as varchar) as customer_id,
        cast(eligible.age_band as varchar) as age_band,
        cast(recommendations.recommendation_rank as integer) as "rank",
        cast(recommendations.article_id as varchar) as article_id,
        cast(articles.prod_name as varchar) as prod_name,
        cast(articles.product_type_name as varchar) as product_type_name,
        cast(articles.colour_group_name as varchar) as colour_group_name,
        cast(articles.price as double precision) as price,
        cast(recommendations.reason as varchar) as reason,
        cast(
            case
                when substr(
                    md5(recommendations.customer_id || '|' || '{{ run_date()[:7] }}'), 1, 4
                ) < {{ control_bound(var('email_control_share')) }}
                    then 'control'
                else 'treatment'
            end as varchar
        ) as campaign_group
    from recommendations
    inner join eligible on recommendations.customer_id = eligible.customer_id
    inner join articles on recommendations.article_id = articles.article_id

)

select * from email_list
