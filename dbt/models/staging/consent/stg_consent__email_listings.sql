-- When each customer was on a published email campaign list (earlier runs only).

with

source as (

    select * from {{ source('consent', 'email_listings') }}

),

renamed as (

    select
        ---------- ids
        customer_id,

        ---------- dates
        cast(run_date as date) as listed_run_date

    from source
    where cast(run_date as date) < {{ run_date_sql() }}

)

select * from renamed
