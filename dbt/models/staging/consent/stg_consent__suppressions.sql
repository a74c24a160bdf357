-- Every suppression, whatever its date: a suppressed customer stays out of every list.

with

source as (

    select * from {{ source('consent', 'suppressions') }}

),

renamed as (

    select
        ---------- ids
        customer_id,
        customer_hash,

        ---------- text
        suppression_source,

        ---------- dates
        cast(suppressed_on as date) as suppressed_on

    from source

)

select * from renamed
