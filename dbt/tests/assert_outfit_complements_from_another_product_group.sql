-- A complement completes the look: it comes from another product group than the
-- article (a second pair of trousers is no complement). Any row here breaks that; an
-- article without a product group cannot be checked and is left to the relationships
-- tests.

{{ config(tags=['published']) }}

select complements.run_date, complements.article_id, complements."rank",
    complements.complement_article_id, articles.product_group_name
from {{ ref('outfit_complements') }} as complements
inner join {{ ref('article_features') }} as articles
    on complements.article_id = articles.article_id
inner join {{ ref('article_features') }} as complement_articles
    on complements.complement_article_id = complement_articles.article_id
where articles.product_group_name = complement_articles.product_group_name
