-- BI's customer dimension for the run: bands and segments only, never the age, postal
-- code or any other raw personal data (contract:
-- shopguide.schema.PUBLISHED_TABLES['customer_segments']).

with

profiles as (

    select * from {{ ref('customer_profiles') }}

),

monetary_terciles as (

    select
        customer_id,
        -- on spend rounded to cents (see the cents macro)
        ntile(3) over (order by {{ cents('monetary') }}, customer_id) as monetary_tercile
    from profiles
    where frequency > 0

)

select
    cast({{ run_date_sql() }} as date) as run_date,
    cast(profiles.customer_id as varchar) as customer_id,
    cast(profiles.age_band as varchar) as age_band,
    cast(profiles.segment as varchar) as segment,
    cast(profiles.price_band as varchar) as price_band,
    cast(
        case
            when profiles.recency_days is null then 'never'
            when profiles.recency_days <= 7 then '0-7 days'
            when profiles.recency_days <= 30 then '8-30 days'
            when profiles.recency_days <= 90 then '31-90 days'
            when profiles.recency_days <= 365 then '91-365 days'
            else 'over 365 days'
        end as varchar
    ) as recency_band,
    cast(
        case
            when profiles.frequency = 0 then '0'
            when profiles.frequency = 1 then '1'
            when profiles.frequency <= 3 then '2-3'
            when profiles.frequency <= 9 then '4-9'
            else '10+'
        end as varchar
    ) as frequency_band,
    cast(
        case monetary_terciles.monetary_tercile
            when 1 then 'low'
            when 2 then 'mid'
            when 3 then 'high'
            else 'none'
        end as varchar
    ) as monetary_band,
    cast(profiles.is_opted_in as boolean) as is_opted_in
from profiles
left join monetary_terciles on profiles.customer_id = monetary_terciles.customer_id
