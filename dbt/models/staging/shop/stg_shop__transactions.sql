with

source as (

    select * from {{ source('shop', 'transactions') }}

),

renamed as (

    select
        ---------- ids
        customer_id,  -- NULL: an anonymous sale (counts for demand, not for recommendations)
        article_id,
        sales_channel_id,

        ---------- numerics
        price,  -- unit price
        coalesce(quantity, 1) as quantity,  -- H&M rows are one unit each

        ---------- dates
        t_dat as purchase_date,  -- H&M's name for the day of the purchase
        _run_date as loaded_run_date

    from source
    -- Nothing after the run's day: a backfill sees what the shop knew then.
    where t_dat <= {{ run_date_sql() }}

)

select * from renamed
