"""Customers of the synthetic shop: segments, ages, marketing consent, signup and churn,
visit rates, colour and price taste, and the basics each one re-buys."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopguide.generate.articles import _Articles, _attribute_affinity
from shopguide.generate.seasonality import _Calendar
from shopguide.generate.vocabulary import SEGMENTS


@dataclass
class _Customers:
    frame: pd.DataFrame
    segment: np.ndarray
    signup_day: np.ndarray
    last_day: np.ndarray
    visit_rate: np.ndarray  # visits per year
    colour_pref: np.ndarray  # (C, masters)
    price_beta: np.ndarray
    masters: np.ndarray  # colour master names of colour_pref's columns
    staples: np.ndarray  # (C, 2) article indices, -1 when none


def _hex_id(seed: int, kind: str, i: int) -> str:
    return hashlib.sha256(f"shopguide:{seed}:{kind}:{i}".encode()).hexdigest()


def _customers(rng, n: int, calendar: _Calendar, seed: int, art: _Articles) -> _Customers:
    n_seg = len(SEGMENTS)
    shares = np.array([s.share for s in SEGMENTS])
    segment = rng.choice(n_seg, size=n, p=shares / shares.sum())
    seg_age = np.array([s.age for s in SEGMENTS])
    age = np.clip(
        np.round(rng.normal(seg_age[segment, 0], seg_age[segment, 1])),
        seg_age[segment, 2],
        seg_age[segment, 3],
    )
    age[rng.random(n) < 0.01] = np.nan

    # About a third sign up during the period, more as the shop grows.
    new = rng.random(n) < 0.35
    growth = np.linspace(1.0, 1.6, calendar.days)
    signup = np.full(n, -1, dtype=np.int64)
    signup[~new] = -rng.integers(1, 1000, size=int((~new).sum()))
    signup[new] = rng.choice(calendar.days, size=int(new.sum()), p=growth / growth.sum())
    first = np.maximum(signup, 0)
    last = np.full(n, calendar.days - 1, dtype=np.int64)
    churn = rng.random(n) < 0.2
    last[churn] = first[churn] + (
        rng.random(int(churn.sum())) * (calendar.days - first[churn])
    ).astype(np.int64)

    opted, fn, active, club, fnf = _marketing_consent(rng, n, segment)

    # Postal areas: a few dense, many small (hashed like the H&M export).
    n_areas = max(20, n // 40)
    area_w = 1.0 / np.arange(1, n_areas + 1) ** 0.8
    area = rng.choice(n_areas, size=n, p=area_w / area_w.sum())
    postal = np.array([_hex_id(seed, "postal", a) for a in range(n_areas)], dtype=object)[area]
    ids = np.array([_hex_id(seed, "customer", i) for i in range(n)], dtype=object)

    # Heavy-tailed activity; opted-in customers are more engaged.
    base_rate = np.array([s.visits_per_year for s in SEGMENTS])[segment]
    visit_rate = base_rate * rng.lognormal(0.0, 0.9, n) * np.where(opted, 1.3, 1.0)

    masters = np.array(sorted(set(art.master)), dtype=object)
    palettes = np.array([[s.palette.get(m, 0.25) for m in masters] for s in SEGMENTS])
    colour_pref = 0.8 * np.log(palettes[segment]) + rng.normal(0, 0.6, (n, len(masters)))
    favourite = (
        np.cumsum(palettes[segment] / palettes[segment].sum(1, keepdims=True), axis=1)
        < rng.random((n, 1))
    ).sum(1)
    colour_pref[np.arange(n), np.minimum(favourite, len(masters) - 1)] += 1.2
    price_beta = np.array([s.price_sensitivity for s in SEGMENTS])[segment] * rng.lognormal(
        0, 0.3, n
    )

    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "FN": fn,
            "Active": active,
            "club_member_status": club,
            "fashion_news_frequency": fnf,
            "age": age,
            "postal_code": postal,
        }
    )
    staples = _staples(rng, art, segment)
    return _Customers(
        frame, segment, signup, last, visit_rate, colour_pref, price_beta, masters, staples
    )


def _marketing_consent(rng, n: int, segment: np.ndarray) -> tuple:
    """Opt-in flag and the H&M consent columns: (opted, FN, Active, club_member_status,
    fashion_news_frequency)."""
    opt_in_p = np.array([s.opt_in for s in SEGMENTS])[segment]
    opted = rng.random(n) < opt_in_p
    fnf = np.where(rng.random(n) < 0.93, "Regularly", "Monthly").astype(object)
    club = np.full(n, "ACTIVE", dtype=object)
    # Not opted in: no news, or news but not an active club member.
    r = rng.random(n)
    fnf_out = np.where(
        r < 0.90, "NONE", np.where(r < 0.92, "None", np.where(r < 0.95, None, "Regularly"))
    ).astype(object)
    club_out = np.where(
        fnf_out == "Regularly",
        np.where(rng.random(n) < 0.8, "PRE-CREATE", "LEFT CLUB"),
        np.where(
            rng.random(n) < 0.88, "ACTIVE", np.where(rng.random(n) < 0.93, "PRE-CREATE", None)
        ),
    ).astype(object)
    fnf = np.where(opted, fnf, fnf_out)
    club = np.where(opted, club, club_out)
    fn = np.where(opted | (rng.random(n) < 0.05), 1.0, np.nan)
    active = np.where(opted & (rng.random(n) < 0.97), 1.0, np.nan)
    return opted, fn, active, club, fnf


def _staples(rng, art: _Articles, segment: np.ndarray) -> np.ndarray:
    """Two basics per customer that they re-buy (socks, tees, briefs ...), -1 when none."""
    n = len(segment)
    staples = np.full((n, 2), -1, dtype=np.int64)
    basics = np.flatnonzero(art.basic)
    if not len(basics):
        return staples
    aff = _affinity(art)[:, basics]
    for s in range(len(SEGMENTS)):
        members = np.flatnonzero(segment == s)
        if not len(members):
            continue
        w = np.exp(aff[s] - aff[s].max()) * art.popularity[basics]
        staples[members] = basics[rng.choice(len(basics), size=(len(members), 2), p=w / w.sum())]
    return staples


def _affinity(art: _Articles) -> np.ndarray:
    """(segments x articles) log-affinity: attributes plus the latent taste."""
    attr = _attribute_affinity(
        art.idx_group, art.master, art.pattern, art.base_price / art.type_price
    )
    return attr + art.segment_latent @ art.latent.T
