-- Marketing may only email customers who opted in: any row here is a customer on the
-- email list who is opted out (or unknown).

{{ config(tags=['published']) }}

select email_list.run_date, email_list.customer_id, email_list."rank"
from {{ ref('email_campaign_list') }} as email_list
left join {{ ref('customer_profiles') }} as customers
    on email_list.customer_id = customers.customer_id
where not coalesce(customers.is_opted_in, false)
