"""Articles of the synthetic shop: products in colour variants with H&M attributes, text,
prices, taste vectors and lifetimes; or a random subset of a real H&M catalogue."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.generate.seasonality import _Calendar, _season_curve
from shopguide.generate.vocabulary import (
    ALL,
    COLOURS,
    COMPLEMENTS,
    GROUP_LETTER,
    INDEX_GROUPS,
    INDEX_PRICE,
    INDEXES,
    LATENT_DIM,
    MODEL_NAMES,
    NEVER_DAY,
    PATTERNS,
    SEASONS,
    SEGMENTS,
    SUMMER,
    TYPES,
    WINTER,
    ProductType,
)


@dataclass
class _Articles:
    frame: pd.DataFrame  # H&M articles columns
    group: np.ndarray  # product_group_name
    idx_group: np.ndarray  # index_group_name
    type_name: np.ndarray
    product: np.ndarray  # product number (variants share it)
    master: np.ndarray  # perceived_colour_master_name
    pattern: np.ndarray
    season: np.ndarray
    basic: np.ndarray
    base_price: np.ndarray
    type_price: np.ndarray
    popularity: np.ndarray
    latent: np.ndarray  # (A, LATENT_DIM)
    launch_day: np.ndarray  # day index (may be negative: before the period)
    retire_day: np.ndarray  # day index, or very large: never
    segment_latent: np.ndarray  # (S, LATENT_DIM)


def _weighted_choice(rng, keys: list, weights, size=None):
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(keys), size=size, p=w / w.sum())


def _synthetic_articles(rng, n_articles: int, calendar: _Calendar) -> _Articles:
    n_seg = len(SEGMENTS)
    seg_latent = rng.normal(0, 1, (n_seg, LATENT_DIM)) / math.sqrt(LATENT_DIM) * 1.6
    # Products with 1-4 colour variants until the article count is reached.
    variants = np.minimum(1 + rng.poisson(1.1, n_articles), 4)
    n_products = int(np.searchsorted(np.cumsum(variants), n_articles) + 1)
    variants = variants[:n_products]
    variants[-1] -= variants.sum() - n_articles

    seg_share = np.array([s.share * s.visits_per_year * (1 + s.basket_extra) for s in SEGMENTS])
    target = rng.choice(n_seg, size=n_products, p=seg_share / seg_share.sum())
    colour_names = [c[5] for c in COLOURS]
    rows = [
        (p, target[p], *_design_product(rng, SEGMENTS[target[p]], colour_names, variants[p]))
        for p in range(n_products)
    ]

    launch_p, retire_p = _product_lifetimes(
        rng, [r[4].season for r in rows], [r[4].basic for r in rows], calendar
    )
    codes = _product_codes(rng, launch_p, n_products)
    frame = pd.DataFrame.from_records(_article_records(rows, codes))
    product = frame.pop("_product").to_numpy()
    target_a = frame.pop("_target").to_numpy()
    latent = 0.75 * seg_latent[target_a] + rng.normal(0, 0.35, (len(frame), LATENT_DIM))
    # Variants share their product's popularity, with a little colour effect.
    product_pop = rng.lognormal(0, 0.9, n_products)
    popularity = product_pop[product] * rng.lognormal(0, 0.3, len(frame))
    return _Articles(
        frame=frame[[c for c in frame.columns if not c.startswith("_")]],
        group=frame["product_group_name"].to_numpy(dtype=object),
        idx_group=frame["index_group_name"].to_numpy(dtype=object),
        type_name=frame["product_type_name"].to_numpy(dtype=object),
        product=product,
        master=frame["perceived_colour_master_name"].to_numpy(dtype=object),
        pattern=frame["graphical_appearance_name"].to_numpy(dtype=object),
        season=frame["_season"].to_numpy(dtype=np.int64),
        basic=frame["_basic"].to_numpy(dtype=bool),
        base_price=frame["_price"].to_numpy(dtype=float),
        type_price=frame["_type_price"].to_numpy(dtype=float),
        popularity=popularity,
        latent=latent,
        launch_day=launch_p[product],
        retire_day=retire_p[product],
        segment_latent=seg_latent,
    )


def _design_product(rng, seg, colour_names: list[str], n_variants: int) -> tuple:
    """One product designed for segment ``seg``: (index group, index, product type, pattern,
    colour indexes of its variants, price, name, description)."""
    groups = list(seg.index_weights)
    idx_group = groups[_weighted_choice(rng, groups, list(seg.index_weights.values()))]
    letter = next(k for k, v in GROUP_LETTER.items() if v == idx_group)
    candidates = [t for t in TYPES if letter in t.indexes]
    ptype = candidates[_weighted_choice(rng, candidates, [t.weight for t in candidates])]
    index = _index_for(rng, idx_group, ptype)
    if ptype.key == "jeans":
        pattern = "Denim"
    else:
        names = [p_[1] for p_ in PATTERNS if p_[1] != "Denim"]
        pattern = names[
            _weighted_choice(
                rng,
                names,
                [p_[2] * seg.patterns.get(p_[1], 1.0) for p_ in PATTERNS if p_[1] != "Denim"],
            )
        ]
    # Colours for the variants: distinct, from the segment's palette.
    colour_w = np.array([seg.palette.get(c, 0.15) for c in colour_names])
    keys = np.log(colour_w) + rng.gumbel(size=len(colour_w))
    colours = np.argsort(-keys, kind="stable")[:n_variants]
    price_level = 1.0 + 0.25 * np.clip(-seg.price_sensitivity, -1, 1)
    base = ptype.price * INDEX_PRICE[idx_group] * price_level * math.exp(rng.normal(0, 0.18))
    name, desc = _compose_text(rng, ptype)
    return idx_group, index, ptype, pattern, colours, _round_price(base), name, desc


def _product_codes(rng, launch_p: np.ndarray, n_products: int) -> np.ndarray:
    """Newer products get higher product codes, as in the H&M catalogue."""
    order = np.argsort(launch_p, kind="stable")
    steps = rng.integers(1, max(2, min(60, 880_000 // max(n_products, 1))), size=n_products)
    codes = np.empty(n_products, dtype=np.int64)
    codes[order] = 108_775 + np.cumsum(steps)
    return codes


def _article_records(rows: list[tuple], codes: np.ndarray) -> list[dict]:
    """One H&M articles row per colour variant, with the hidden facts in ``_`` columns."""
    records = []
    pattern_no = {p_[1]: p_[0] for p_ in PATTERNS}
    depts: dict[str, int] = {}
    sections: dict[str, int] = {}
    for p, tgt, _idx_group, index, ptype, pattern, colours, price, name, desc in rows:
        code, index_name, group_no, group_name, prefix = index
        dept_name = prefix + ptype.department
        dept_no = depts.setdefault(dept_name, 1000 + 10 * len(depts))
        section = _section(index_name, group_name, ptype)
        for v, c in enumerate(colours):
            cg = COLOURS[c]
            records.append(
                {
                    "article_id": f"{codes[p]:07d}{v + 1:03d}",
                    "product_code": int(codes[p]),
                    "prod_name": name,
                    "product_type_no": ptype.no,
                    "product_type_name": ptype.name,
                    "product_group_name": ptype.group,
                    "graphical_appearance_no": pattern_no[pattern],
                    "graphical_appearance_name": pattern,
                    "colour_group_code": cg[0],
                    "colour_group_name": cg[1],
                    "perceived_colour_value_id": cg[2],
                    "perceived_colour_value_name": cg[3],
                    "perceived_colour_master_id": cg[4],
                    "perceived_colour_master_name": cg[5],
                    "department_no": dept_no,
                    "department_name": dept_name,
                    "index_code": code,
                    "index_name": index_name,
                    "index_group_no": group_no,
                    "index_group_name": group_name,
                    "section_no": sections.setdefault(section, 2 + len(sections)),
                    "section_name": section,
                    "garment_group_no": ptype.garment_group[0],
                    "garment_group_name": ptype.garment_group[1],
                    "detail_desc": desc,
                    "_product": p,
                    "_target": tgt,
                    "_season": ptype.season,
                    "_basic": ptype.basic,
                    "_price": price,
                    "_type_price": ptype.price * INDEX_PRICE[group_name],
                }
            )
    return records


def _round_price(value: float) -> float:
    # Shop prices end in .99 (under 10: .49 or .99).
    if value < 10:
        return round(max(1.99, math.floor(value * 2) / 2 - 0.01), 2)
    return round(max(9.99, math.floor(value) - 0.01), 2)


def _index_for(rng, idx_group: str, ptype: ProductType) -> tuple:
    options = [i for i in INDEXES if i[3] == idx_group]
    if idx_group == "Ladieswear":
        lingerie = ptype.group in ("Underwear", "Socks & Tights", "Nightwear")
        return next(i for i in options if i[0] == ("B" if lingerie else "A"))
    if idx_group == "Baby/Children":
        return options[0] if rng.random() < 0.7 else options[1]
    return options[0]


SECTIONS = {
    ("Ladieswear", "garment"): "Womens Everyday Collection",
    ("Ladieswear", "basic"): "Womens Everyday Basics",
    ("Ladieswear", "shoes"): "Womens Shoes",
    ("Ladieswear", "accessories"): "Womens Small accessories",
    ("Ladieswear", "swim"): "Womens Swimwear, beachwear",
    ("Lingeries/Tights", None): "Womens Lingerie",
    ("Menswear", "garment"): "Contemporary Casual",
    ("Menswear", "basic"): "Men Underwear",
    ("Menswear", "shoes"): "Men Shoes",
    ("Menswear", "accessories"): "Men Accessories",
    ("Menswear", "swim"): "Men Underwear",
    ("Divided", "basic"): "Divided Basics",
    ("Divided", "accessories"): "Divided Accessories",
    ("Divided", None): "Divided Collection",
    ("Children Sizes 92-140", "shoes"): "Kids & Baby Shoes",
    ("Children Sizes 92-140", "basic"): "Girls Underwear & Basics",
    ("Children Sizes 92-140", None): "Kids Collection",
    ("Baby Sizes 50-98", None): "Baby Essentials & Complements",
    ("Sport", None): "H&M Sport",
}


def _section(index_name: str, group_name: str, ptype: ProductType) -> str:
    return (
        SECTIONS.get((index_name, ptype.category))
        or SECTIONS.get((index_name, None))
        or f"{group_name} {ptype.category.title()}"
    )


def _compose_text(rng, ptype: ProductType) -> tuple[str, str]:
    model = MODEL_NAMES[rng.integers(len(MODEL_NAMES))]
    style = ptype.styles[rng.integers(len(ptype.styles))]
    noun = ptype.nouns[rng.integers(len(ptype.nouns))]
    material = ptype.materials[rng.integers(len(ptype.materials))]
    picks = rng.choice(len(ptype.features), size=min(2, len(ptype.features)), replace=False)
    features = [ptype.features[i] for i in sorted(picks)]
    name = f"{model} {style.lower()} {noun}" if rng.random() < 0.6 else f"{style} {noun}"
    name = name[0].upper() + name[1:]
    desc = f"{style} {noun} in {material} with {' and '.join(features)}."
    if ptype.basic and rng.random() < 0.5:
        desc += " An everyday favourite."
    elif ptype.season == SUMMER and rng.random() < 0.4:
        desc += " Perfect for warm days."
    elif ptype.season == WINTER and rng.random() < 0.4:
        desc += " Keeps you warm on cold days."
    return name, desc[0].upper() + desc[1:]


def _product_lifetimes(rng, seasons, basics, calendar: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Launch and retirement day of each product, on week boundaries (collection drops)."""
    n = len(seasons)
    seasons = np.asarray(seasons)
    basics = np.asarray(basics, dtype=bool)
    weeks = calendar.weeks
    new = rng.random(n) < 0.4
    new &= np.arange(n) >= min(n, 10)  # a few products always exist from the start
    launch_week = np.empty(n, dtype=np.int64)
    # Old products: launched up to a year before the period.
    launch_week[~new] = -rng.integers(1, 53, size=int((~new).sum()))
    # New products: in collections ahead of their season (about eight weeks early).
    for season in range(len(SEASONS)):
        chosen = np.flatnonzero(new & (seasons == season))
        if not len(chosen):
            continue
        ahead = ((calendar.week_doy + 56 - 1) % 365) + 1
        w = 0.35 + _season_curve(season, ahead)
        launch_week[chosen] = rng.choice(weeks, size=len(chosen), p=w / w.sum())
    life_weeks = np.ceil(rng.lognormal(math.log(30), 0.5, n)).astype(np.int64) + 4
    retire_week = launch_week + life_weeks
    never = basics | (np.arange(n) < min(n, 10))
    retire_week[never] = NEVER_DAY // 7
    return launch_week * 7, retire_week * 7


def _catalogue_articles(rng, path: str, n_articles: int, calendar: _Calendar) -> _Articles:
    """A random subset of a real H&M catalogue, with the behaviour model's hidden facts."""
    frame = _catalogue_sample(rng, path, n_articles)
    n = len(frame)
    n_seg = len(SEGMENTS)

    type_by_name: dict[str, ProductType] = {}
    for t in TYPES:
        type_by_name.setdefault(t.name, t)
    types = [type_by_name.get(name) for name in frame["product_type_name"]]
    group_price = {"Garment Upper body": 24.99, "Garment Lower body": 29.99, "Garment Full body": 29.99,
                   "Accessories": 12.99, "Shoes": 34.99, "Underwear": 9.99, "Socks & Tights": 6.99,
                   "Nightwear": 19.99, "Swimwear": 14.99}  # fmt: skip
    idx_group = frame["index_group_name"].to_numpy(dtype=object)
    group = frame["product_group_name"].to_numpy(dtype=object)
    season = np.array(
        [
            t.season if t else _season_from_text(name)
            for t, name in zip(types, frame["product_type_name"], strict=True)
        ]
    )
    basic = np.array([bool(t and t.basic) for t in types])
    type_price = np.array(
        [
            (t.price if t else group_price[g]) * INDEX_PRICE[ig]
            for t, g, ig in zip(types, group, idx_group, strict=True)
        ]
    )
    codes = frame["product_code"].to_numpy() if "product_code" in frame else np.arange(n)
    _, product = np.unique(codes, return_inverse=True)
    n_products = int(product.max()) + 1
    base_price = np.array([_round_price(p * math.exp(rng.normal(0, 0.18))) for p in type_price])

    seg_latent = rng.normal(0, 1, (n_seg, LATENT_DIM)) / math.sqrt(LATENT_DIM) * 1.6
    master = frame["perceived_colour_master_name"].fillna("Unknown").to_numpy(dtype=object)
    pattern = frame["graphical_appearance_name"].fillna("Unknown").to_numpy(dtype=object)
    # Each article is "designed for" the segment whose attribute taste fits it best (sampled).
    attr = _attribute_affinity(idx_group, master, pattern, base_price / type_price)
    p_target = np.exp(attr - attr.max(axis=0, keepdims=True))
    p_target /= p_target.sum(axis=0, keepdims=True)
    target = (p_target.cumsum(axis=0) < rng.random(n)[None, :]).sum(axis=0).clip(0, n_seg - 1)
    latent = 0.75 * seg_latent[target] + rng.normal(0, 0.35, (n, LATENT_DIM))
    popularity = rng.lognormal(0, 0.9, n_products)[product] * rng.lognormal(0, 0.3, n)

    first_article = np.unique(product, return_index=True)[1]
    basic_product = np.zeros(n_products, dtype=bool)
    np.logical_or.at(basic_product, product, basic)
    launch_p, retire_p = _product_lifetimes(rng, season[first_article], basic_product, calendar)
    return _Articles(
        frame=frame,
        group=group,
        idx_group=idx_group,
        type_name=frame["product_type_name"].to_numpy(dtype=object),
        product=product,
        master=master,
        pattern=pattern,
        season=season,
        basic=basic,
        base_price=base_price,
        type_price=type_price,
        popularity=popularity,
        latent=latent,
        launch_day=launch_p[product],
        retire_day=retire_p[product],
        segment_latent=seg_latent,
    )


def _catalogue_sample(rng, path: str, n_articles: int) -> pd.DataFrame:
    """``n_articles`` random clothing, shoe and accessory rows of the H&M catalogue at ``path``."""
    from shopguide.sources import SourceError, read_table, require_columns

    try:
        raw = read_table(Path(path), "articles", fix="pass an H&M articles.parquet or articles.csv")
    except SourceError as exc:
        raise ValueError(f"generate --catalogue: {exc}") from exc
    raw.columns = [c.lower() for c in raw.columns]
    needed = ("article_id", "prod_name", "product_type_name", "product_group_name", "index_group_name",
              "perceived_colour_master_name", "graphical_appearance_name")  # fmt: skip
    try:
        require_columns(raw, "articles", path, "pass the H&M Kaggle articles file", required=needed)
    except SourceError as exc:
        raise ValueError(f"generate --catalogue: {exc}") from exc
    usable = raw[
        raw["index_group_name"].isin(INDEX_GROUPS)
        & raw["product_group_name"].isin(list(COMPLEMENTS))
    ]
    if len(usable) < n_articles:
        raise ValueError(
            f"generate --catalogue: {path} has {len(usable)} usable articles (clothing, shoes and "
            f"accessories of the index groups {', '.join(INDEX_GROUPS)}); ask for at most that many with --articles"
        )
    pick = np.sort(rng.choice(len(usable), size=n_articles, replace=False))
    frame = usable.iloc[pick].copy()
    frame["article_id"] = frame["article_id"].astype(str).str.zfill(10)
    return frame.reset_index(drop=True)


def _season_from_text(type_name) -> int:
    text = str(type_name).lower()
    if any(w in text for w in ("swim", "bikini", "sandal", "shorts", "sun", "flip")):
        return SUMMER
    if any(
        w in text
        for w in ("coat", "jacket", "boots", "beanie", "scarf", "glove", "knit", "sweater")
    ):
        return WINTER
    return ALL


def _attribute_affinity(idx_group, master, pattern, relative_price) -> np.ndarray:
    """(segments x articles) log-affinity from the attributes alone."""
    out = np.empty((len(SEGMENTS), len(idx_group)))
    log_rel = np.log(np.clip(relative_price, 0.2, 5.0))
    for s, seg in enumerate(SEGMENTS):
        idx_w = np.array([seg.index_weights.get(g, 0.0) for g in idx_group])
        col_w = np.array([seg.palette.get(m, 0.25) for m in master])
        pat_w = np.array([seg.patterns.get(p, 1.0) for p in pattern])
        out[s] = (
            np.log(idx_w + 0.01)
            + 0.8 * np.log(col_w)
            + 0.5 * np.log(pat_w)
            - 1.5 * seg.price_sensitivity * log_rel
        )
    return out
