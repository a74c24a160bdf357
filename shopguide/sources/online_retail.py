"""UCI Online Retail (a UK online gift retailer) as a shop source.

Input: one CSV file (optionally gzipped), or a directory of them read in name order,
with the columns ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country``. Text is read as UTF-8, falling back to Latin-1
(the encoding of older exports of the original spreadsheet). ``InvoiceDate`` may be
ISO (``2010-12-01 08:26:00``) or the spreadsheet's month-first ``12/1/2010 8:26``.

Cleaning (the dataset's documented cleaning; counted in ``SourceData.dropped``):

- cancellations: ``InvoiceNo`` starting with ``C``, and rows with ``Quantity`` <= 0
  (returns and stock adjustments),
- non-product stock codes: postage (POST, DOT), manual (M), discounts (D), bank
  charges, carriage (C2), Amazon fees, gift vouchers (``gift_0001_*``), samples
  (S), ... — a product code is 5 digits optionally followed by letters,
- unit prices of zero or below (free samples and bookkeeping rows).

Values that cannot be parsed (a text quantity, an unreadable date) are kept as
nulls for the ingest step to quarantine.

Mapping to the raw shape:

- transactions: ``t_dat`` = invoice day, ``customer_id`` = ``CustomerID`` as text
  without ``.0`` (null for an anonymous sale, kept: demand forecasts count it),
  ``article_id`` = ``StockCode`` upper-cased (not zero-padded), ``price`` =
  ``UnitPrice``, ``quantity`` = ``Quantity``, ``sales_channel_id`` = 1 (online).
- articles, one per stock code: ``prod_name`` = the most frequent ``Description``,
  ``detail_desc`` = the same text; ``product_type_name`` and
  ``product_group_name`` from keywords of the description (``MUG`` -> Mug / Kitchen
  & Dining, unknown -> Other / Other); ``department_name`` = the product group,
  ``colour_group_name``/``perceived_colour_master_name`` and
  ``graphical_appearance_name`` from colour and pattern words (null when none),
  ``index_name``/``index_group_name`` = "Home & Gifts", ``product_code`` = the
  5-digit number of the stock code (its colour/size variants share it).
- customers, one per ``CustomerID``: ``postal_code`` = the customer's most frequent
  ``Country`` (used as the region); no marketing consent is known, so every
  customer is opted out (``fashion_news_frequency`` null).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.sources.canonical import (
    canonical_articles,
    canonical_customers,
    canonical_transactions,
)
from shopguide.sources.coerce import to_float, to_id, to_text
from shopguide.sources.data import SourceData
from shopguide.sources.errors import SourceError
from shopguide.sources.files import CSV_SUFFIXES, concat_frames, read_table, require_columns

# Description and Country may be missing (names and regions then stay null).
REQUIRED = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID")
FIX = (
    "export it with the UCI Online Retail columns InvoiceNo, StockCode, Description, Quantity, "
    "InvoiceDate, UnitPrice, CustomerID, Country (comma-separated)"
)
PATH_FIX = "point SHOPGUIDE_SOURCE_PATH (or --source-path) at the Online Retail .csv/.csv.gz file or its directory"

# A product's stock code: 5 digits, optionally followed by letters for its variants.
PRODUCT_CODE = r"^\d{5}[A-Z]*$"

# Pandas date formats tried in order (ISO first; then the spreadsheet's own).
DATE_FORMATS = ("ISO8601", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M")

# (keyword pattern, product type, product group), first match wins: multi-word and
# specific keywords come before the generic ones they contain.
# fmt: off
PRODUCT_KEYWORDS: tuple[tuple[str, str, str], ...] = (
    (r"HOT WATER BOTTLE", "Hot water bottle", "Home Textiles"),
    (r"T-?LIGHT HOLDER|TEA ?LIGHT HOLDER|CANDLE ?HOLDER|CANDLESTICK", "Candle holder", "Lights & Candles"),
    (r"T-?LIGHTS?|TEA ?LIGHTS?|CANDLES?", "Candle", "Lights & Candles"),
    (r"LAMPSHADE|LAMP|LANTERN|LIGHTS?\b|CHANDELIER", "Light", "Lights & Candles"),
    (r"LUNCH BOX|LUNCHBOX", "Lunch box", "Kitchen & Dining"),
    (r"CAKE STAND|CAKE CASES|BAKING|CAKE TIN|CUTLERY|SPOON|APRON|OVEN GLOVE|TEA TOWEL|COASTERS?|PLACEMATS?|NAPKINS?|DOILIES|TRAY|JUG|TEAPOT|KITCHEN|PANTRY", "Kitchen accessory", "Kitchen & Dining"),
    (r"MUGS?|CUPS?|TEACUP|BEAKERS?|SAUCERS?|GLASS(?:ES)?\b|TUMBLER", "Mug & cup", "Kitchen & Dining"),
    (r"PLATES?|BOWLS?|DISH", "Plate & bowl", "Kitchen & Dining"),
    (r"BAGS?\b|HANDBAG|WASHBAG|SHOPPER|TOTE", "Bag", "Bags & Purses"),
    (r"PURSE|WALLET", "Purse", "Bags & Purses"),
    (r"NECKLACE|BRACELET|EARRINGS?|RINGS?\b|BROOCH|CHARM|BEADS?", "Jewellery", "Jewellery & Accessories"),
    (r"HAIR|SCARF|GLOVES?|UMBRELLA|PARASOL|HAT\b|SUNGLASSES", "Accessory", "Jewellery & Accessories"),
    (r"CARDS?\b|WRAP|WRAPPING|ENVELOPES?|GIFT TAGS?|TAGS?\b|RIBBONS?", "Card & wrap", "Stationery & Gift Wrap"),
    (r"NOTEBOOK|SKETCHBOOK|PENCILS?|PENS?\b|ERASER|STICKERS?|NOTEPAD|TAPE|CALENDAR|DIARY|JOURNAL|MAGNETS?", "Stationery", "Stationery & Gift Wrap"),
    (r"TISSUES?", "Tissues", "Stationery & Gift Wrap"),
    (r"BOX(?:ES)?\b|TINS?\b|JARS?\b|BASKETS?|STORAGE|CABINET|DRAWERS?|BUCKET|CRATE|CASE\b|CASES\b", "Box & storage", "Storage"),
    (r"CHRISTMAS|XMAS|ADVENT|EASTER|HALLOWEEN|BUNTING|GARLAND|BAUBLE|SNOWFLAKE|TREE\b", "Seasonal decoration", "Seasonal"),
    (r"CLOCK", "Clock", "Home Decor"),
    (r"MIRROR|FRAME|PHOTO", "Frame & mirror", "Home Decor"),
    (r"CUSHION|THROW|BLANKET|CURTAIN|QUILT|DOORMAT", "Home textile", "Home Textiles"),
    (r"SIGN|PLAQUE|DECORATION|ORNAMENT|HANGING|WREATH|VASE|HOOKS?|HANGER|DOORSTOP|WALL ART|CANVAS|BELL", "Decoration", "Home Decor"),
    (r"GARDEN|PLANT|WATERING|FLOWER POT|POTS?\b|BIRD ?HOUSE|BIRD FEEDER", "Garden", "Garden"),
    (r"TOYS?|GAME|JIGSAW|PUZZLE|DOLL|DOLLY|PLAYHOUSE|SKITTLES|DOMINOES|SPINNING TOP|BALLOONS?|KIT\b|CRAYONS|COLOURING|SOLDIER|SPACEBOY|TEDDY", "Toy & game", "Toys & Party"),
    (r"PARTY|CANDY|SWEETS?|CHOCOLATE|BIRTHDAY|CONFETTI|STRAWS?", "Party supply", "Toys & Party"),
    (r"SOAP|BATH|TOWEL|TOILET|SPONGE|NAIL", "Bath accessory", "Bath & Beauty"),
    (r"INCENSE|OIL BURNER|FRAGRANCE|SCENTED|DIFFUSER", "Home fragrance", "Home Decor"),
    (r"SCISSORS?|HOLE PUNCH|PASSPORT COVER|RUBBER\b|RULER|PAPERWEIGHT|P'WEIGHT", "Stationery", "Stationery & Gift Wrap"),
    (r"KEY-?CHAINS?|KEY ?RINGS?|FANS?\b", "Accessory", "Jewellery & Accessories"),
)
OTHER = ("Other", "Other")

COLOURS: tuple[tuple[str, str, str], ...] = (
    # (word pattern, colour group, perceived colour master)
    (r"BLACK", "Black", "Black"),
    (r"WHITE|IVORY", "White", "White"),
    (r"CREAM|BEIGE", "Beige", "Beige"),
    (r"GREY|GRAY|SILVER|ZINC|METAL", "Grey", "Grey"),
    (r"BLUE|NAVY", "Blue", "Blue"),
    (r"RED\b", "Red", "Red"),
    (r"PINK|ROSE\b", "Pink", "Pink"),
    (r"PURPLE|LILAC|LAVENDER", "Purple", "Lilac Purple"),
    (r"GREEN|MINT", "Green", "Green"),
    (r"YELLOW|LEMON", "Yellow", "Yellow"),
    (r"ORANGE", "Orange", "Orange"),
    (r"BROWN|CHOCOLATE|WOOD(?:EN)?\b", "Brown", "Brown"),
    (r"GOLD", "Gold", "Metal"),
)
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"POLKADOT|POLKA DOT|SPOTS?\b|RETROSPOT|DOTS?\b", "Dot"),
    (r"STRIPES?|STRIPED|STRIPEY", "Stripe"),
    (r"GINGHAM|CHECK", "Check"),
    (r"FLORAL|FLOWERS?|ROSES?\b|DAISY|PAISLEY|BLOSSOM", "Floral"),
    (r"HEARTS?\b", "Hearts"),
)
# fmt: on
INDEX_NAME = "Home & Gifts"


def read_online_retail(path: str | Path) -> SourceData:
    """Read the UCI Online Retail CSV(s) at ``path`` (a file or a directory of them)."""
    paths = _input_files(Path(path))
    frames = [_read_file(p) for p in paths]
    raw = concat_frames(frames) if len(frames) > 1 else frames[0]
    files_text = ", ".join(str(p) for p in paths)

    raw["InvoiceNo"] = to_text(raw["InvoiceNo"])
    raw["StockCode"] = to_text(raw["StockCode"]).str.upper()
    quantity = to_float(raw["Quantity"])
    price = to_float(raw["UnitPrice"])

    # Documented cleaning; unparsable values (NaN) are not matched and stay for quarantine.
    cancelled = raw["InvoiceNo"].str.upper().str.startswith("C").eq(True) | (quantity <= 0)
    non_product = raw["StockCode"].notna() & ~raw["StockCode"].str.match(PRODUCT_CODE).eq(True)
    free = price <= 0
    dropped = {
        "cancellation or return": int(cancelled.sum()),
        "non-product stock code": int((non_product & ~cancelled).sum()),
        "zero or negative unit price": int((free & ~cancelled & ~non_product).sum()),
    }
    kept = raw.loc[~(cancelled | non_product | free)]

    transactions = canonical_transactions(
        pd.DataFrame(
            {
                "t_dat": kept["InvoiceDate"],
                "customer_id": kept["CustomerID"],
                "article_id": kept["StockCode"],
                "price": kept["UnitPrice"],
                "sales_channel_id": np.ones(len(kept), dtype="int64"),
                "quantity": kept["Quantity"],
            },
            index=kept.index,
        ),
        pad_ids=False,
        date_formats=DATE_FORMATS,
    )
    articles = _articles(kept)
    customers = _customers(raw.loc[~non_product])
    notes = [f"dropped {n} rows: {reason}" for reason, n in dropped.items() if n]
    return SourceData(
        customers=customers,
        articles=articles,
        transactions=transactions,
        files={"transactions": files_text, "articles": files_text, "customers": files_text},
        dropped=dropped,
        notes=notes,
    )


def _input_files(path: Path) -> list[Path]:
    if not path.exists():
        raise SourceError(f"Online Retail file {path} does not exist; {PATH_FIX}")
    if path.is_file():
        return [path]
    found = sorted(
        p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(CSV_SUFFIXES)
    )
    if not found:
        raise SourceError(
            f"no .csv or .csv.gz file in the Online Retail directory {path}; {PATH_FIX}"
        )
    return found


def _read_file(path: Path) -> pd.DataFrame:
    try:
        df = read_table(path, "transactions", fix=FIX)
    except SourceError as exc:
        if not isinstance(exc.__cause__, UnicodeDecodeError):
            raise
        df = read_table(path, "transactions", fix=FIX, encoding="latin-1")
    require_columns(df, "transactions", path, FIX, required=REQUIRED)
    for optional in ("Description", "Country"):
        if optional not in df.columns:
            df[optional] = None
    return df


def _articles(kept: pd.DataFrame) -> pd.DataFrame:
    lines = pd.DataFrame(
        {"article_id": kept["StockCode"], "description": to_text(kept["Description"])}
    )
    lines = lines.dropna(subset=["article_id"])
    # Most frequent description per stock code; ties go to the alphabetically first.
    counts = (
        lines.dropna(subset=["description"])
        .groupby(["article_id", "description"])
        .size()
        .rename("n")
        .reset_index()
    )
    counts = counts.sort_values(
        ["article_id", "n", "description"], ascending=[True, False, True], kind="mergesort"
    )
    names = counts.drop_duplicates("article_id").set_index("article_id")["description"]
    ids = pd.Index(sorted(lines["article_id"].unique()), name="article_id")
    names = names.reindex(ids)

    types, groups = _classify(names, PRODUCT_KEYWORDS)
    colour = _first_match(names, [(p, (g, m)) for p, g, m in COLOURS])
    pattern = _first_match(names, PATTERNS)
    frame = pd.DataFrame(
        {
            "article_id": ids.to_numpy(dtype=object),
            "product_code": pd.Series(ids).str.slice(0, 5).to_numpy(),
            "prod_name": names.to_numpy(dtype=object),
            "product_type_name": types,
            "product_group_name": groups,
            "graphical_appearance_name": pattern,
            "colour_group_name": [c[0] if c else None for c in colour],
            "perceived_colour_master_name": [c[1] if c else None for c in colour],
            "department_name": groups,
            "index_name": INDEX_NAME,
            "index_group_name": INDEX_NAME,
            "section_name": None,
            "garment_group_name": None,
            "detail_desc": names.to_numpy(dtype=object),
        }
    )
    return canonical_articles(frame, pad_ids=False)


def _classify(names: pd.Series, table) -> tuple[list[str], list[str]]:
    found = _first_match(names, [(p, (t, g)) for p, t, g in table])
    types = [f[0] if f else OTHER[0] for f in found]
    groups = [f[1] if f else OTHER[1] for f in found]
    return types, groups


def _first_match(names: pd.Series, table) -> list:
    """For each name, the value of the first pattern (whole words) it contains, else None."""
    result = [None] * len(names)
    text = names.fillna("").astype(str).str.upper()
    undecided = np.ones(len(names), dtype=bool)
    for pattern, value in table:
        hits = text.str.contains(re.compile(rf"\b(?:{pattern})"), regex=True).to_numpy() & undecided
        for i in np.flatnonzero(hits):
            result[i] = value
        undecided &= ~hits
    return result


def _customers(rows: pd.DataFrame) -> pd.DataFrame:
    ids = to_id(rows["CustomerID"])
    country = to_text(rows["Country"])
    known = pd.DataFrame({"customer_id": ids, "country": country}).dropna(subset=["customer_id"])
    if known.empty:
        return canonical_customers(pd.DataFrame({"customer_id": pd.Series([], dtype=object)}))
    counts = (
        known.groupby(["customer_id", "country"], dropna=False).size().rename("n").reset_index()
    )
    counts = counts.sort_values(
        ["customer_id", "n", "country"], ascending=[True, False, True], kind="mergesort"
    )
    main = counts.drop_duplicates("customer_id")
    frame = pd.DataFrame(
        {"customer_id": main["customer_id"].to_numpy(), "postal_code": main["country"].to_numpy()}
    )
    return canonical_customers(frame)
