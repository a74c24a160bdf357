"""Purchases of the synthetic shop (the H&M transactions file): weekly prices and demand,
visits, and baskets with complete-the-look items, staples and extra units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopguide.generate.articles import _Articles
from shopguide.generate.customers import _affinity, _Customers
from shopguide.generate.seasonality import _Calendar, _season_curve
from shopguide.generate.vocabulary import BASKET_MAX, COMPLEMENTS, NEUTRALS, SEASONS, SEGMENTS


def _transactions(rng, art: _Articles, cust: _Customers, calendar: _Calendar) -> pd.DataFrame:
    launch_w = art.launch_day // 7
    retire_w = art.retire_day // 7
    avail, discount, price = _weekly_prices(rng, art, calendar, launch_w, retire_w)
    sampler = _weekly_demand(rng, art, calendar, avail, discount, launch_w)
    v_cust, v_day, v_week, v_seg, v_channel, v_size = _visits(rng, cust, calendar)

    # -- basket items ---------------------------------------------------------------
    item_visit = np.repeat(np.arange(len(v_cust)), v_size)
    starts = np.cumsum(v_size) - v_size
    slot = np.arange(len(item_visit)) - starts[item_visit]
    i_cust = v_cust[item_visit]
    i_week = v_week[item_visit]
    i_seg = v_seg[item_visit]

    # Every item is first a personal pick from the segment's weekly demand ...
    article = _personal_pick(rng, sampler, art, cust, i_cust, i_seg, i_week)
    # ... and some visits are for one of the customer's staples (re-bought basics).
    _use_if_available(
        article,
        (slot == 0) & (rng.random(len(slot)) < 0.06),
        cust.staples[i_cust, 0],
        avail,
        i_week,
    )
    anchor = article[starts[item_visit]]

    # Extra items: complete the look, another staple, or a second unit.
    roll = rng.random(len(slot))
    partners = _look_partners(rng, art, launch_w, retire_w)
    look = (slot > 0) & (roll < 0.45)
    partner = partners[anchor, rng.integers(0, partners.shape[1], size=len(slot))]
    _use_if_available(article, look, partner, avail, i_week)
    staple = (slot > 0) & (roll >= 0.45) & (roll < 0.55)
    _use_if_available(
        article, staple, cust.staples[i_cust, rng.integers(0, 2, size=len(slot))], avail, i_week
    )
    second_unit = (slot > 0) & (roll >= 0.55) & (roll < 0.61)
    # In slot order on purpose: a third unit copies the second, which copied the first.
    for s in range(1, BASKET_MAX):
        rows = np.flatnonzero(second_unit & (slot == s))
        article[rows] = article[rows - 1]

    i_day = v_day[item_visit]
    frame = pd.DataFrame(
        {
            "t_dat": np.datetime_as_string(
                calendar.day(i_day).astype("datetime64[D]"), unit="D"
            ).astype(object),
            "customer_id": cust.frame["customer_id"].to_numpy()[i_cust],
            "article_id": art.frame["article_id"].to_numpy()[article],
            "price": price[i_week, article],
            "sales_channel_id": v_channel[item_visit],
        }
    )
    order = np.lexsort((slot, item_visit, frame["customer_id"].to_numpy(), i_day))
    return frame.iloc[order].reset_index(drop=True)


def _weekly_prices(rng, art: _Articles, calendar: _Calendar, launch_w, retire_w) -> tuple:
    """What is on sale each week and at what price: (avail, discount, price), each (W, A)."""
    n_art = len(art.frame)
    weeks = calendar.weeks
    week_idx = np.arange(weeks)
    avail = (launch_w[None, :] <= week_idx[:, None]) & (
        week_idx[:, None] < retire_w[None, :]
    )  # (W, A)
    discount = np.zeros((weeks, n_art))
    in_sale = np.array([calendar.in_sale(w) for w in range(weeks)])
    sale_member = rng.random(n_art) < 0.4
    sale_depth = rng.choice([0.2, 0.3, 0.4, 0.5], size=n_art)
    discount[np.ix_(in_sale, sale_member)] = sale_depth[sale_member]
    # Markdown in an article's last three weeks.
    to_end = retire_w[None, :] - week_idx[:, None]
    markdown = (to_end >= 1) & (to_end <= 3)
    discount = np.where(markdown, np.maximum(discount, 0.3 + 0.1 * (3 - to_end)), discount)
    promo = rng.random((weeks, n_art)) < 0.015
    discount = np.where(promo, np.maximum(discount, 0.2), discount)
    price = np.round(art.base_price[None, :] * (1 - discount), 2)
    return avail, discount, price


def _weekly_demand(rng, art: _Articles, calendar: _Calendar, avail, discount, launch_w):
    """A sampler of articles by each segment's demand per week (season, novelty, trends,
    discounts, availability and the segment's taste)."""
    n_art = len(art.frame)
    weeks = calendar.weeks
    week_idx = np.arange(weeks)
    season = np.ones((weeks, n_art))
    for s in range(len(SEASONS)):
        cols = art.season == s
        if cols.any():
            season[:, cols] = _season_curve(s, calendar.week_doy)[:, None]
    since_launch = week_idx[:, None] - launch_w[None, :]
    novelty = np.where(
        (since_launch >= 0) & (launch_w[None, :] >= 0), 1 + 2.0 * np.exp(-since_launch / 3.0), 1.0
    )
    trending = rng.random(n_art) < 0.05
    peak = rng.integers(0, weeks, size=n_art)
    trend = 1 + 3.0 * trending[None, :] * np.exp(
        -0.5 * ((week_idx[:, None] - peak[None, :]) / 2.5) ** 2
    )
    week_weight = art.popularity[None, :] * season * novelty * trend * (1 + 1.5 * discount) * avail
    affinity = _affinity(art)
    seg_weight = np.exp(affinity - affinity.max(axis=1, keepdims=True))  # (S, A)
    return _Sampler(seg_weight[:, None, :] * week_weight[None, :, :])  # (S, W, A)


def _visits(rng, cust: _Customers, calendar: _Calendar) -> tuple:
    """Each customer's visits: (customer, day, week, segment, channel, basket size) per visit."""
    traffic = calendar.traffic
    cum = np.concatenate([[0.0], np.cumsum(traffic)])
    first = np.maximum(cust.signup_day, 0)
    last = cust.last_day
    window_traffic = cum[last + 1] - cum[first]
    expected = cust.visit_rate / 365.0 * window_traffic / traffic.mean()
    n_visits = rng.poisson(expected)
    v_cust = np.repeat(np.arange(len(n_visits)), n_visits)
    u = cum[first[v_cust]] + rng.random(len(v_cust)) * window_traffic[v_cust]
    v_day = np.clip(np.searchsorted(cum, u, side="right") - 1, first[v_cust], last[v_cust])
    v_week = calendar.week_of_day[v_day]
    v_seg = cust.segment[v_cust]
    online_p = np.array([s.online_share for s in SEGMENTS])[v_seg]
    v_channel = np.where(rng.random(len(v_cust)) < online_p, 2, 1).astype(np.int8)
    extra = np.array([s.basket_extra for s in SEGMENTS])[v_seg] * np.where(
        v_channel == 2, 1.15, 1.0
    )
    v_size = np.minimum(1 + rng.poisson(extra), BASKET_MAX)
    return v_cust, v_day, v_week, v_seg, v_channel, v_size


def _use_if_available(article, mask, replacement, avail, week) -> None:
    """Set ``article[mask]`` to ``replacement`` where that article exists and is on sale."""
    rows = np.flatnonzero(mask & (replacement >= 0))
    rows = rows[avail[week[rows], replacement[rows]]]
    article[rows] = replacement[rows]


class _Sampler:
    """Draw articles from per-(segment, week) weights with one vectorized search."""

    def __init__(self, weights: np.ndarray):
        s, w, a = weights.shape
        self.n_weeks = w
        self.n_articles = a
        flat = weights.reshape(s * w, a)
        totals = flat.sum(axis=1, keepdims=True)
        # A week with nothing on sale for a segment (tiny catalogues): fall back to everything.
        flat = np.where(totals > 0, flat, 1.0)
        cdf = np.cumsum(flat, axis=1)
        cdf /= cdf[:, -1:]
        # Group g's cumulative weights run from g to g + 1: one sorted array for all groups.
        self.cdf = (cdf + np.arange(s * w)[:, None]).ravel()

    def draw(self, rng, segment: np.ndarray, week: np.ndarray, k: int) -> np.ndarray:
        group = (segment * self.n_weeks + week)[:, None]
        u = group + rng.random((len(segment), k))
        pos = np.searchsorted(self.cdf, u, side="right")
        return np.clip(pos - group * self.n_articles, 0, self.n_articles - 1)


def _personal_pick(
    rng, sampler: _Sampler, art: _Articles, cust: _Customers, i_cust, i_seg, i_week, k: int = 4
):
    """From k candidates of the segment's demand, the one this customer likes best."""
    cand = sampler.draw(rng, i_seg, i_week, k)
    master_col = np.searchsorted(cust.masters, art.master)
    rel_price = np.log(art.base_price / art.type_price)
    score = (
        cust.colour_pref[i_cust[:, None], master_col[cand]]
        - cust.price_beta[i_cust, None] * rel_price[cand]
    )
    score += rng.gumbel(size=cand.shape)
    return cand[np.arange(len(cand)), np.argmax(score, axis=1)]


def _look_partners(rng, art: _Articles, launch_w, retire_w, k: int = 8) -> np.ndarray:
    """For each article, k articles that complete its look (-1 where fewer exist).

    Partners are from a complementary product group of the same index group,
    another product type, a matching colour (the same colour master, or neutrals),
    on sale at an overlapping time, weighted by popularity.
    """
    n = len(art.frame)
    partners = np.full((n, k), -1, dtype=np.int64)
    # Integer codes: comparing object arrays per article would dominate the run time.
    type_code = np.unique(art.type_name.astype(str), return_inverse=True)[1]
    master_code = np.unique(art.master.astype(str), return_inverse=True)[1]
    neutral = np.isin(art.master, NEUTRALS)
    by_bucket: dict[tuple[str, str], np.ndarray] = {}
    for key in sorted(set(zip(art.idx_group, art.group, strict=True))):
        by_bucket[key] = np.flatnonzero((art.idx_group == key[0]) & (art.group == key[1]))
    for (idx_group, group), anchors in by_bucket.items():
        pool = [by_bucket.get((idx_group, g)) for g in dict.fromkeys(COMPLEMENTS.get(group, ()))]
        pool = [p for p in pool if p is not None]
        if not pool:
            continue
        cand_all = np.concatenate(pool)
        c_type, c_product, c_master = (
            type_code[cand_all],
            art.product[cand_all],
            master_code[cand_all],
        )
        c_launch, c_retire, c_neutral = launch_w[cand_all], retire_w[cand_all], neutral[cand_all]
        c_log_pop = np.log(art.popularity[cand_all])
        for a in anchors:
            colour_w = np.where(
                c_master == master_code[a],
                3.0,
                np.where(c_neutral, 1.0, 0.5 if neutral[a] else 0.0),
            )
            ok = (
                (c_type != type_code[a])
                & (c_product != art.product[a])
                & (c_launch < retire_w[a])
                & (c_retire > launch_w[a])
                & (colour_w > 0)
            )
            cand = cand_all[ok]
            if not len(cand):
                continue
            keys = c_log_pop[ok] + np.log(colour_w[ok]) + rng.gumbel(size=len(cand))
            if len(cand) > k:
                best = np.argpartition(-keys, k - 1)[:k]
                best = best[np.argsort(-keys[best], kind="stable")]
            else:
                best = np.argsort(-keys, kind="stable")
            partners[a, : len(best)] = cand[best]
    return partners
