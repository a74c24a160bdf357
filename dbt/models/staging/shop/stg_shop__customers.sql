with

source as (

    select * from {{ source('shop', 'customers') }}

),

latest as (

    -- Loads upsert by customer_id; keep the latest load should a key repeat anyway.
    select
        *,
        row_number() over (partition by customer_id order by _run_date desc) as load_rank
    from source

),

renamed as (

    select
        ---------- ids
        customer_id,
        -- a hashed id in the H&M data: a grouping key, never published
        postal_code as region,

        ---------- numerics
        {{ dbt.safe_cast('age', 'integer') }} as age,
        fn as fashion_news_flag,
        active as active_flag,

        ---------- text
        club_member_status,
        fashion_news_frequency,
        case
            when age is null or age < 16 then 'unknown'
            when age < 25 then '16-24'
            when age < 35 then '25-34'
            when age < 45 then '35-44'
            when age < 55 then '45-54'
            when age < 65 then '55-64'
            else '65+'
        end as age_band,

        ---------- booleans
        -- Marketing opt-in: news Regularly or Monthly AND an active club member.
        coalesce(
            fashion_news_frequency in ('Regularly', 'Monthly')
            and club_member_status = 'ACTIVE',
            false
        ) as is_opted_in,

        ---------- dates
        _run_date as loaded_run_date

    from latest
    where load_rank = 1

)

select * from renamed
