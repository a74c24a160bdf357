"""A synthetic fashion shop in the H&M Kaggle shape, with patterns the models can learn.

``generate_shop(out_dir, ...)`` writes ``articles.parquet``, ``customers.parquet``
and ``transactions.parquet`` with the columns and types of the H&M Personalized
Fashion Recommendations files, so ``read_source("generated", out_dir)`` reads them
with the H&M reader. Everything is drawn from one seeded generator: the same
arguments give the same rows.

What is in the data:

- Customers belong to one of seven segments (young trend, classic, family, menswear
  basics, sporty, premium, young men), each with its taste: index groups, a colour
  palette, patterns, price sensitivity, store/online habit, visit rate and basket
  size. Each customer adds a personal favourite colour and price sensitivity.
  Ages follow the segment; about 37% are opted in to marketing (ACTIVE club members
  with fashion news Regularly/Monthly). About a third sign up during the period and
  buy nothing before their signup day; some stop buying (churn).
- Articles are products in colour variants, each designed for a segment: product
  group -> product type -> department, section and garment group; colours and
  graphical appearance; name and description composed from the type's vocabulary
  ("Slim-fit jeans in washed stretch denim with a high waist and a zip fly."); a
  latent taste vector near its segment's; a base price by type and index with
  noise. A third or more launch during the period in seasonal collections, with a
  novelty boost; non-basic articles are retired after a lifetime, with a markdown
  in their last weeks.
- Transactions: visit rates with a heavy tail; weekend peaks; a yearly curve
  (January and summer sales, Black Friday, Christmas run-up, closed on Christmas
  Day); summer and winter product types following the season; trending
  articles; baskets of several articles bought the same day where extra items
  "complete the look" (a top with trousers of a matching colour, a dress with
  shoes), basics re-bought over time (each customer's staples), some multi-unit
  rows; sales channel 1 (store) or 2 (online) per visit; prices with sale,
  markdown and promotion discounts. Prices are in shop currency (9.99, 29.99 ...),
  not scaled like the H&M export's.

``catalogue=path to an H&M articles.parquet`` reuses a random subset of the real
catalogue (its attributes and text) instead of the synthetic articles; the
behaviour model is the same.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

# index_code, index_name, index_group_no, index_group_name, department prefix
INDEXES = (
    ("A", "Ladieswear", 1, "Ladieswear", ""),
    ("B", "Lingeries/Tights", 1, "Ladieswear", ""),
    ("F", "Menswear", 3, "Menswear", "Men "),
    ("D", "Divided", 2, "Divided", "Divided "),
    ("H", "Children Sizes 92-140", 4, "Baby/Children", "Kids "),
    ("G", "Baby Sizes 50-98", 4, "Baby/Children", "Baby "),
    ("S", "Sport", 26, "Sport", "Sport "),
)
INDEX_GROUPS = ("Ladieswear", "Menswear", "Divided", "Baby/Children", "Sport")
GROUP_LETTER = {
    "L": "Ladieswear",
    "M": "Menswear",
    "D": "Divided",
    "K": "Baby/Children",
    "S": "Sport",
}
# Relative price level of an index (children's clothes are cheaper).
INDEX_PRICE = {
    "Ladieswear": 1.0,
    "Menswear": 1.0,
    "Divided": 0.8,
    "Baby/Children": 0.6,
    "Sport": 1.1,
}

SEASONS = ("all year", "summer", "winter", "spring/autumn")
ALL, SUMMER, WINTER, MIDSEASON = range(4)


@dataclass(frozen=True)
class ProductType:
    key: str
    no: int
    name: str  # product_type_name (H&M's: jeans are "Trousers")
    group: str  # product_group_name
    price: float
    season: int
    basic: bool  # re-bought; never retired
    garment_group: tuple[int, str]
    department: str
    category: str  # for the section: garment, basic, shoes, accessories, swim
    indexes: str  # letters of GROUP_LETTER it is made for
    weight: float  # share of the assortment
    nouns: tuple[str, ...]
    styles: tuple[str, ...]
    materials: tuple[str, ...]
    features: tuple[str, ...]


def _t(*args) -> ProductType:
    return ProductType(*args)


# fmt: off
JERSEY_FEATURES = ("a round neckline", "short sleeves", "a rounded hem", "a chest pocket", "dropped shoulders", "a V-neck")
KNIT_FEATURES = ("ribbing at the cuffs and hem", "long raglan sleeves", "a high neck", "dropped shoulders", "a relaxed silhouette")
WOVEN_TOP_FEATURES = ("a collar and buttons down the front", "long sleeves with buttoned cuffs", "a yoke at the back", "a rounded hem", "puff sleeves")
TROUSER_FEATURES = ("a high waist", "a zip fly and button", "side pockets", "tapered legs", "an elasticated drawstring waist", "wide legs", "pressed pleats")
OUTDOOR_FEATURES = ("a detachable hood", "a zip down the front", "flap front pockets", "a padded lining", "a stand-up collar", "press-studs")
SHOE_FEATURES = ("a padded footbed", "lacing at the front", "a rubber sole", "a block heel", "a pull-on loop at the back", "ankle straps")
ACCESSORY_FEATURES = ("an adjustable strap", "a zip compartment", "a metal buckle", "a soft lining", "a decorative clasp")
LINGERIE_FEATURES = ("adjustable shoulder straps", "lace trims", "a low waist", "a wide waistband", "moulded cups", "a hook-and-eye fastening")
SWIM_FEATURES = ("a fully lined front", "tie-fastening at the sides", "high-cut legs", "narrow adjustable straps", "a low back")

TYPES: tuple[ProductType, ...] = (
    # Garment Upper body
    _t("tshirt", 255, "T-shirt", "Garment Upper body", 9.99, ALL, True, (1002, "Jersey Basic"), "Jersey Basic", "basic", "LMDKS", 3.0,
       ("T-shirt", "tee"), ("Regular-fit", "Oversized", "Fitted", "Boxy", "Slim-fit"), ("soft cotton jersey", "organic cotton jersey", "slub jersey"), JERSEY_FEATURES),
    _t("vest", 253, "Vest top", "Garment Upper body", 7.99, SUMMER, True, (1002, "Jersey Basic"), "Jersey Basic", "basic", "LDKS", 1.5,
       ("vest top", "strap top"), ("Fitted", "Ribbed", "Racer-back", "Cropped"), ("ribbed cotton jersey", "stretch jersey"), ("narrow shoulder straps", "a scoop neckline", "a straight-cut hem")),
    _t("top", 254, "Top", "Garment Upper body", 14.99, ALL, False, (1005, "Jersey Fancy"), "Jersey Fancy", "garment", "LDKS", 2.2,
       ("top", "long-sleeved top"), ("Draped", "Wrap", "Cropped", "Fitted", "Off-the-shoulder"), ("soft viscose jersey", "stretch jersey", "pointelle jersey"), ("gathered seams", "long sleeves", "a square neckline", "a tie detail at the front")),
    _t("blouse", 258, "Blouse", "Garment Upper body", 24.99, ALL, False, (1010, "Blouses"), "Blouses", "garment", "LDK", 1.8,
       ("blouse",), ("Airy", "Frilled", "Wide-cut", "Embroidered"), ("airy viscose weave", "crinkled chiffon", "cotton poplin", "satin"), WOVEN_TOP_FEATURES),
    _t("shirt", 259, "Shirt", "Garment Upper body", 24.99, ALL, False, (1011, "Shirts"), "Shirts", "garment", "LMDK", 1.6,
       ("shirt", "overshirt"), ("Regular Fit", "Slim Fit", "Relaxed Fit", "Oxford"), ("cotton poplin", "oxford cotton", "linen blend", "brushed flannel"), WOVEN_TOP_FEATURES),
    _t("sweater", 252, "Sweater", "Garment Upper body", 29.99, WINTER, False, (1003, "Knitwear"), "Knitwear", "garment", "LMDKS", 2.2,
       ("jumper", "sweater"), ("Rib-knit", "Fine-knit", "Chunky", "Oversized", "Cable-knit"), ("soft rib knit", "fine-knit cotton blend", "wool-blend knit", "soft mohair-blend knit"), KNIT_FEATURES),
    _t("hoodie", 245, "Hoodie", "Garment Upper body", 24.99, WINTER, False, (1005, "Jersey Fancy"), "Jersey Fancy", "garment", "LMDKS", 1.6,
       ("hoodie", "hooded top"), ("Relaxed-fit", "Oversized", "Zip-through", "Printed"), ("sweatshirt fabric", "soft brushed fleece", "cotton-blend sweatshirt fabric"), ("a lined drawstring hood", "a kangaroo pocket", "ribbing at the cuffs and hem")),
    _t("cardigan", 262, "Cardigan", "Garment Upper body", 29.99, MIDSEASON, False, (1003, "Knitwear"), "Knitwear", "garment", "LMK", 1.0,
       ("cardigan",), ("Fine-knit", "Cropped", "Long", "Textured-knit"), ("soft knit", "fine-knit cotton", "wool-blend knit"), ("buttons down the front", "a V-neck", "ribbing at the cuffs and hem")),
    _t("jacket", 264, "Jacket", "Garment Upper body", 49.99, MIDSEASON, False, (1007, "Outdoor"), "Outdoor", "garment", "LMDKS", 1.5,
       ("jacket", "bomber jacket", "denim jacket", "shacket"), ("Padded", "Water-repellent", "Oversized", "Quilted"), ("water-repellent shell", "washed denim", "faux suede", "cotton twill"), OUTDOOR_FEATURES),
    _t("coat", 265, "Coat", "Garment Upper body", 79.99, WINTER, False, (1007, "Outdoor"), "Outdoor", "garment", "LMK", 0.8,
       ("coat", "parka", "puffer coat"), ("Wool-blend", "Double-breasted", "Padded", "Long"), ("felted wool-blend", "water-repellent shell", "soft teddy fleece"), OUTDOOR_FEATURES),
    _t("blazer", 267, "Blazer", "Garment Upper body", 49.99, ALL, False, (1008, "Dressed"), "Dressed", "garment", "LM", 0.8,
       ("blazer", "jacket"), ("Single-breasted", "Double-breasted", "Oversized", "Slim Fit"), ("woven fabric", "stretch twill", "linen blend"), ("notch lapels", "a welt chest pocket", "flap front pockets", "a single back vent")),
    # Garment Lower body
    _t("trousers", 272, "Trousers", "Garment Lower body", 29.99, ALL, False, (1009, "Trousers"), "Trousers", "garment", "LMDKS", 2.5,
       ("trousers", "chinos", "joggers", "cargo trousers"), ("Wide", "Slim Fit", "Relaxed Fit", "Straight", "Tapered"), ("woven cotton twill", "stretch twill", "soft crêpe", "sweatshirt fabric"), TROUSER_FEATURES),
    _t("jeans", 272, "Trousers", "Garment Lower body", 34.99, ALL, False, (1016, "Trousers Denim"), "Trousers Denim", "garment", "LMDK", 2.3,
       ("jeans",), ("Skinny", "Slim", "Straight", "Mom", "Wide", "Relaxed"), ("washed stretch denim", "rigid cotton denim", "soft washed denim"), ("a high waist", "a zip fly and button", "five pockets", "raw-edge hems", "ripped details")),
    _t("shorts", 274, "Shorts", "Garment Lower body", 19.99, SUMMER, False, (1025, "Shorts"), "Shorts", "garment", "LMDKS", 1.5,
       ("shorts", "denim shorts", "chino shorts"), ("Relaxed", "High-waisted", "Knee-length", "Cargo"), ("cotton twill", "washed denim", "linen blend", "sweatshirt fabric"), TROUSER_FEATURES),
    _t("skirt", 275, "Skirt", "Garment Lower body", 24.99, SUMMER, False, (1012, "Skirts"), "Skirts", "garment", "LDK", 1.2,
       ("skirt", "mini skirt", "midi skirt"), ("Pleated", "A-line", "Wrap", "Tiered"), ("flowing woven fabric", "satin", "denim", "crinkled chiffon"), ("a high waist", "a concealed zip", "a flared hem", "an elasticated waist")),
    _t("leggings", 273, "Leggings/Tights", "Garment Lower body", 14.99, ALL, True, (1002, "Jersey Basic"), "Jersey Basic", "basic", "LDKS", 1.3,
       ("leggings", "cycling shorts"), ("High-waisted", "Seamless", "Ribbed", "Shaping"), ("soft stretch jersey", "fast-drying functional fabric", "ribbed jersey"), ("a wide waistband", "a key pocket in the waistband", "a gusset")),
    # Garment Full body
    _t("dress", 265, "Dress", "Garment Full body", 29.99, SUMMER, False, (1013, "Dresses Ladies"), "Dresses Ladies", "garment", "LDK", 2.4,
       ("dress", "shirt dress", "slip dress", "maxi dress"), ("Wrap", "Flared", "Fitted", "Smocked", "Tiered"), ("airy viscose weave", "crinkled chiffon", "soft jersey", "linen blend", "satin"), ("a V-neck", "a tie belt at the waist", "puff sleeves", "a flared skirt", "narrow shoulder straps")),
    _t("jumpsuit", 268, "Jumpsuit/Playsuit", "Garment Full body", 34.99, SUMMER, False, (1013, "Dresses Ladies"), "Dresses Ladies", "garment", "LDK", 0.7,
       ("jumpsuit", "playsuit"), ("Wide-leg", "Utility", "Wrap", "Belted"), ("woven fabric", "lyocell twill", "linen blend"), ("a tie belt at the waist", "wide legs", "a V-neck", "side pockets")),
    # Accessories
    _t("bag", 66, "Bag", "Accessories", 24.99, ALL, False, (1019, "Accessories"), "Accessories", "accessories", "LMDS", 1.1,
       ("bag", "shoulder bag", "shopper", "backpack"), ("Small", "Quilted", "Canvas", "Faux leather"), ("faux leather", "cotton canvas", "nylon", "quilted fabric"), ACCESSORY_FEATURES),
    _t("scarf", 83, "Scarf", "Accessories", 14.99, WINTER, False, (1019, "Accessories"), "Accessories", "accessories", "LMDK", 0.7,
       ("scarf",), ("Jacquard-knit", "Fringed", "Wool-blend", "Oversized"), ("soft knit", "wool-blend weave", "brushed woven fabric"), ("fringes at the short ends", "a soft feel")),
    _t("beanie", 71, "Hat/beanie", "Accessories", 12.99, WINTER, False, (1019, "Accessories"), "Accessories", "accessories", "LMDKS", 0.7,
       ("beanie", "hat"), ("Rib-knit", "Fleece-lined", "Pompom"), ("soft rib knit", "wool-blend knit"), ("a wide turn-up", "a pompom on top")),
    _t("cap", 72, "Cap/peaked", "Accessories", 12.99, SUMMER, False, (1019, "Accessories"), "Accessories", "accessories", "LMDKS", 0.5,
       ("cap",), ("Cotton", "Embroidered", "Washed"), ("cotton twill", "washed cotton"), ("an embroidered motif at the front", "an adjustable strap at the back")),
    _t("sunglasses", 84, "Sunglasses", "Accessories", 12.99, SUMMER, False, (1019, "Accessories"), "Accessories", "accessories", "LMD", 0.5,
       ("sunglasses",), ("Cat-eye", "Round", "Square", "Aviator"), ("plastic frames", "metal frames"), ("UV-protective, tinted lenses", "a slim metal bridge")),
    _t("belt", 67, "Belt", "Accessories", 14.99, ALL, False, (1019, "Accessories"), "Accessories", "accessories", "LMD", 0.5,
       ("belt", "leather belt"), ("Slim", "Wide", "Waist"), ("faux leather", "leather", "woven fabric"), ("a metal buckle", "a decorative clasp")),
    _t("earring", 73, "Earring", "Accessories", 7.99, ALL, False, (1019, "Accessories"), "Accessories", "accessories", "LD", 0.8,
       ("earrings", "hoop earrings"), ("Pendant", "Chunky", "Small"), ("metal", "glass beads", "pearl-like beads"), ("a hinged fastening", "a sparkly stone")),
    _t("necklace", 77, "Necklace", "Accessories", 9.99, ALL, False, (1019, "Accessories"), "Accessories", "accessories", "LD", 0.6,
       ("necklace", "chain necklace"), ("Short", "Multistrand", "Pendant"), ("metal", "glass beads"), ("a pendant", "a lobster clasp")),
    _t("gloves", 80, "Gloves", "Accessories", 12.99, WINTER, False, (1019, "Accessories"), "Accessories", "accessories", "LMK", 0.4,
       ("gloves", "mittens"), ("Knitted", "Fleece-lined", "Touchscreen"), ("soft knit", "faux leather"), ("a soft lining", "ribbed cuffs")),
    # Shoes
    _t("sneakers", 87, "Sneakers", "Shoes", 39.99, ALL, False, (1020, "Shoes"), "Shoes", "shoes", "LMDKS", 1.3,
       ("trainers", "sneakers"), ("Chunky", "Canvas", "Running", "Low-top"), ("faux leather", "cotton canvas", "mesh"), SHOE_FEATURES),
    _t("boots", 88, "Boots", "Shoes", 59.99, WINTER, False, (1020, "Shoes"), "Shoes", "shoes", "LMDK", 0.8,
       ("boots", "ankle boots", "Chelsea boots"), ("Chunky", "Heeled", "Warm-lined", "Leather"), ("faux leather", "suede", "leather"), SHOE_FEATURES),
    _t("sandals", 89, "Sandals", "Shoes", 24.99, SUMMER, False, (1020, "Shoes"), "Shoes", "shoes", "LMDK", 0.7,
       ("sandals", "slides"), ("Strappy", "Platform", "Leather", "Espadrille"), ("faux leather", "woven straps", "leather"), SHOE_FEATURES),
    _t("ballerinas", 90, "Ballerinas", "Shoes", 24.99, ALL, False, (1020, "Shoes"), "Shoes", "shoes", "LK", 0.4,
       ("ballet pumps", "ballerinas"), ("Pointed", "Mary Jane", "Soft"), ("faux leather", "satin", "suede"), SHOE_FEATURES),
    # Underwear, socks, nightwear
    _t("bra", 306, "Bra", "Underwear", 19.99, ALL, True, (1017, "Under-, Nightwear"), "Lingerie", "basic", "LS", 1.2,
       ("bra", "bralette", "sports bra"), ("Push-up", "Non-wired", "Padded", "Lace"), ("microfibre", "lace", "fast-drying functional fabric"), LINGERIE_FEATURES),
    _t("briefs", 286, "Underwear bottom", "Underwear", 6.99, ALL, True, (1017, "Under-, Nightwear"), "Lingerie", "basic", "LMDK", 1.6,
       ("briefs", "boxer shorts", "thong briefs", "hipster briefs"), ("3-pack", "5-pack", "Lace", "Cotton"), ("soft cotton jersey", "microfibre", "lace"), LINGERIE_FEATURES),
    _t("socks", 302, "Socks", "Socks & Tights", 4.99, ALL, True, (1021, "Socks and Tights"), "Socks & Tights", "basic", "LMDKS", 1.5,
       ("socks", "trainer socks"), ("5-pack", "7-pack", "Sports", "Ankle"), ("soft cotton-blend knit", "fine-knit", "terry"), ("a reinforced heel and toe", "ribbed tops")),
    _t("tights", 304, "Underwear Tights", "Socks & Tights", 9.99, WINTER, True, (1021, "Socks and Tights"), "Socks & Tights", "basic", "LDK", 0.7,
       ("tights",), ("20 denier", "50 denier", "Opaque", "Fishnet"), ("sheer microfibre", "opaque microfibre", "fine-knit cotton"), ("an elasticated waist", "a reinforced toe")),
    _t("pyjamas", 308, "Pyjama set", "Nightwear", 24.99, WINTER, False, (1017, "Under-, Nightwear"), "Nightwear", "basic", "LMK", 0.8,
       ("pyjamas", "pyjama set"), ("Printed", "Flannel", "Satin", "Jersey"), ("soft cotton jersey", "brushed flannel", "satin"), ("an elasticated waist", "long sleeves", "piping")),
    # Swimwear
    _t("bikinitop", 298, "Bikini top", "Swimwear", 14.99, SUMMER, False, (1018, "Swimwear"), "Swimwear", "swim", "LDK", 0.8,
       ("bikini top",), ("Triangle", "Balconette", "Bandeau", "Padded"), ("recycled swimwear fabric", "textured swimwear fabric"), SWIM_FEATURES),
    _t("bikinibottom", 59, "Swimwear bottom", "Swimwear", 12.99, SUMMER, False, (1018, "Swimwear"), "Swimwear", "swim", "LMDK", 0.9,
       ("bikini bottoms", "swim shorts"), ("Brazilian", "High-waisted", "Tie-tanga", "Knee-length"), ("recycled swimwear fabric", "fast-drying woven fabric"), SWIM_FEATURES),
    _t("swimsuit", 60, "Swimsuit", "Swimwear", 24.99, SUMMER, False, (1018, "Swimwear"), "Swimwear", "swim", "LKS", 0.6,
       ("swimsuit",), ("Shaping", "High-leg", "Cut-out", "Wrap"), ("recycled swimwear fabric", "textured swimwear fabric"), SWIM_FEATURES),
)
# fmt: on

# Complete the look: groups an extra basket item comes from, given the first item.
COMPLEMENTS = {
    "Garment Upper body": ("Garment Lower body", "Garment Lower body", "Shoes", "Accessories"),
    "Garment Lower body": ("Garment Upper body", "Garment Upper body", "Shoes"),
    "Garment Full body": ("Shoes", "Accessories", "Garment Upper body"),
    "Shoes": ("Garment Lower body", "Garment Full body", "Socks & Tights"),
    "Accessories": ("Garment Upper body", "Garment Full body", "Accessories"),
    "Underwear": ("Underwear", "Socks & Tights", "Nightwear"),
    "Socks & Tights": ("Underwear", "Shoes"),
    "Nightwear": ("Socks & Tights", "Underwear"),
    "Swimwear": ("Swimwear", "Accessories"),
}
NEUTRALS = ("Black", "White", "Beige", "Grey")

# fmt: off
# colour_group_code, colour_group_name, perceived_colour_value_id, value name, master id, master name
COLOURS = (
    (9, "Black", 4, "Dark", 5, "Black"),
    (10, "White", 3, "Light", 9, "White"),
    (11, "Off White", 1, "Dusty Light", 9, "White"),
    (8, "Dark Grey", 4, "Dark", 12, "Grey"),
    (7, "Grey", 2, "Medium Dusty", 12, "Grey"),
    (6, "Light Grey", 3, "Light", 12, "Grey"),
    (12, "Light Beige", 1, "Dusty Light", 11, "Beige"),
    (13, "Beige", 1, "Dusty Light", 11, "Beige"),
    (73, "Dark Blue", 4, "Dark", 2, "Blue"),
    (72, "Blue", 7, "Medium", 2, "Blue"),
    (71, "Light Blue", 3, "Light", 2, "Blue"),
    (42, "Red", 5, "Bright", 18, "Red"),
    (43, "Dark Red", 4, "Dark", 18, "Red"),
    (52, "Pink", 5, "Bright", 4, "Pink"),
    (51, "Light Pink", 3, "Light", 4, "Pink"),
    (62, "Green", 7, "Medium", 19, "Green"),
    (63, "Dark Green", 4, "Dark", 19, "Green"),
    (19, "Greenish Khaki", 2, "Medium Dusty", 20, "Khaki green"),
    (22, "Yellow", 5, "Bright", 8, "Yellow"),
    (32, "Orange", 5, "Bright", 6, "Orange"),
    (17, "Yellowish Brown", 2, "Medium Dusty", 14, "Brown"),
    (15, "Dark Brown", 4, "Dark", 14, "Brown"),
    (82, "Light Purple", 3, "Light", 3, "Lilac Purple"),
    (91, "Turquoise", 7, "Medium", 15, "Turquoise"),
)

# graphical_appearance_no, name, base share
PATTERNS = (
    (1010016, "Solid", 5.0),
    (1010017, "Stripe", 1.0),
    (1010001, "All over pattern", 1.5),
    (1010010, "Melange", 0.8),
    (1010004, "Check", 0.5),
    (1010014, "Placement print", 0.6),
    (1010023, "Front print", 0.6),
    (1010021, "Lace", 0.3),
    (1010008, "Dot", 0.3),
    (1010003, "Denim", 0.0),  # only (and always) for jeans
)

MODEL_NAMES = (
    "Luna", "Ava", "Mia", "Nova", "Tilly", "Ella", "Ivy", "Zoe", "Lola", "Maya", "Iris", "Stella", "Cleo",
    "Freja", "Alma", "Vera", "Noa", "Sam", "Max", "Leo", "Theo", "Oscar", "Hugo", "Jack", "Milo", "Finn",
    "Elis", "Nils", "Otto", "Bo", "Juno", "Ruby", "Sky", "Wren", "Pixie", "Bella", "Dolly", "Rio", "Kai", "Ash",
)
# fmt: on


@dataclass(frozen=True)
class Segment:
    name: str
    share: float
    age: tuple[float, float, float, float]  # mean, sd, min, max
    index_weights: dict[str, float]
    palette: dict[str, float]  # perceived colour master -> weight
    patterns: dict[str, float]
    price_sensitivity: float  # > 0 prefers cheaper, < 0 dearer articles
    online_share: float
    visits_per_year: float
    basket_extra: float  # mean extra items per visit
    opt_in: float


# fmt: off
SEGMENTS = (
    Segment("Young trend", 0.20, (21, 3.5, 16, 30), {"Divided": 0.55, "Ladieswear": 0.33, "Sport": 0.07, "Baby/Children": 0.05},
            {"Black": 3, "White": 2, "Pink": 3, "Lilac Purple": 2, "Beige": 1.5, "Yellow": 1, "Green": 1, "Blue": 1.5},
            {"Front print": 2.5, "All over pattern": 2, "Placement print": 1.5, "Lace": 1}, 1.2, 0.75, 8, 1.5, 0.40),
    Segment("Classic women", 0.18, (44, 8, 30, 70), {"Ladieswear": 0.85, "Sport": 0.05, "Baby/Children": 0.05, "Divided": 0.05},
            {"Black": 3, "White": 2.5, "Beige": 2.5, "Grey": 2, "Blue": 2, "Brown": 1, "Red": 0.7},
            {"Solid": 1.5, "Stripe": 2, "Check": 1.5}, 0.6, 0.35, 6, 1.2, 0.42),
    Segment("Family", 0.16, (36, 6, 24, 52), {"Baby/Children": 0.62, "Ladieswear": 0.28, "Menswear": 0.10},
            {"Blue": 2.5, "Pink": 2.5, "Yellow": 1.5, "Green": 1.5, "White": 2, "Grey": 1.5, "Red": 1, "Orange": 1, "Turquoise": 1},
            {"Front print": 2.5, "All over pattern": 2, "Stripe": 1.5, "Dot": 1.5}, 1.3, 0.55, 9, 1.8, 0.38),
    Segment("Menswear basics", 0.16, (38, 10, 20, 72), {"Menswear": 0.9, "Sport": 0.1},
            {"Black": 3, "Grey": 2.5, "Blue": 3, "White": 2, "Khaki green": 1.5, "Brown": 1, "Beige": 1},
            {"Solid": 2, "Melange": 2, "Check": 1.5}, 0.9, 0.5, 4.5, 0.9, 0.30),
    Segment("Sporty", 0.10, (29, 6, 18, 50), {"Sport": 0.55, "Ladieswear": 0.2, "Menswear": 0.2, "Divided": 0.05},
            {"Black": 3, "Grey": 2, "Turquoise": 1.5, "Blue": 1.5, "Orange": 1, "White": 1.5, "Lilac Purple": 1, "Pink": 1},
            {"Solid": 1.5, "Melange": 1.5, "Placement print": 1.5}, 0.9, 0.65, 6, 1.1, 0.36),
    Segment("Premium", 0.10, (50, 9, 32, 82), {"Ladieswear": 0.92, "Menswear": 0.04, "Baby/Children": 0.04},
            {"Beige": 3, "Black": 3, "White": 2, "Brown": 2, "Red": 1, "Grey": 1},
            {"Solid": 2, "Lace": 1.5, "Check": 1}, -0.6, 0.3, 5.5, 1.4, 0.45),
    Segment("Young men", 0.10, (22, 3.5, 16, 32), {"Menswear": 0.6, "Divided": 0.3, "Sport": 0.1},
            {"Black": 3.5, "White": 2.5, "Khaki green": 1.5, "Grey": 2, "Orange": 0.6, "Blue": 1.5, "Beige": 1},
            {"Front print": 2, "Solid": 1.5, "Placement print": 1.5}, 1.2, 0.7, 5, 1.1, 0.33),
)
# fmt: on

LATENT_DIM = 6
NEVER_DAY = 7 * 100_000  # retirement day of articles that stay in the range
DOW_WEIGHTS = np.array([0.85, 0.82, 0.88, 0.95, 1.08, 1.42, 1.22])  # Monday .. Sunday
BASKET_MAX = 10


@dataclass
class GeneratedShop:
    """The generated frames (H&M file shapes) and the hidden facts behind them, for checks."""

    articles: pd.DataFrame
    customers: pd.DataFrame
    transactions: pd.DataFrame
    article_launch: pd.Series  # article_id -> first day on sale
    article_retire: pd.Series  # article_id -> first day off sale (NaT: never)
    customer_signup: pd.Series  # customer_id -> signup day
    customer_segment: pd.Series  # customer_id -> segment name


def generate_shop(
    out_dir: str | Path,
    *,
    customers: int = 3000,
    articles: int = 1500,
    days: int = 365,
    end_date: str = "2024-06-30",
    seed: int = 42,
    catalogue: str | None = None,
) -> dict[str, str]:
    """Write the synthetic shop to ``out_dir``; returns entity -> file path."""
    shop = build_shop(
        customers=customers,
        articles=articles,
        days=days,
        end_date=end_date,
        seed=seed,
        catalogue=catalogue,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for entity, frame in (
        ("articles", shop.articles),
        ("customers", shop.customers),
        ("transactions", shop.transactions),
    ):
        path = out / f"{entity}.parquet"
        frame.to_parquet(path, index=False)
        paths[entity] = str(path)
    return paths


def build_shop(
    *,
    customers: int = 3000,
    articles: int = 1500,
    days: int = 365,
    end_date: str = "2024-06-30",
    seed: int = 42,
    catalogue: str | None = None,
) -> GeneratedShop:
    """Generate the shop in memory (see the module docstring for what is in it)."""
    for name, value, low in (
        ("customers", customers, 1),
        ("articles", articles, 2),
        ("days", days, 7),
    ):
        try:
            whole = int(value) == value
        except (TypeError, ValueError):
            whole = False
        if not whole or value < low:
            raise ValueError(f"generate: {name}={value!r} must be a whole number of at least {low}")
    try:
        last_day = pd.Timestamp(end_date).normalize()
    except (ValueError, TypeError):
        last_day = pd.NaT
    if pd.isna(last_day):
        raise ValueError(f"generate: end_date={end_date!r} is not a date; write it as YYYY-MM-DD")
    rng = np.random.default_rng(seed)
    calendar = _Calendar(last_day - pd.Timedelta(days=days - 1), days)

    if catalogue is None:
        art = _synthetic_articles(rng, articles, calendar)
    else:
        art = _catalogue_articles(rng, catalogue, articles, calendar)
    cust = _customers(rng, customers, calendar, seed, art)
    tx = _transactions(rng, art, cust, calendar)

    launch = pd.Series(calendar.day(art.launch_day), index=art.frame["article_id"], name="launch")
    never_retired = art.retire_day >= NEVER_DAY
    retire = pd.Series(
        np.where(
            never_retired,
            np.datetime64("NaT"),
            calendar.day(np.where(never_retired, 0, art.retire_day)),
        ),
        index=art.frame["article_id"],
        name="retire",
    )
    signup = pd.Series(
        calendar.day(cust.signup_day), index=cust.frame["customer_id"], name="signup"
    )
    segment = pd.Series(
        np.array([s.name for s in SEGMENTS])[cust.segment],
        index=cust.frame["customer_id"],
        name="segment",
    )
    order_a = np.argsort(art.frame["article_id"].to_numpy(), kind="stable")
    order_c = np.argsort(cust.frame["customer_id"].to_numpy(), kind="stable")
    return GeneratedShop(
        articles=art.frame.iloc[order_a].reset_index(drop=True),
        customers=cust.frame.iloc[order_c].reset_index(drop=True),
        transactions=tx,
        article_launch=launch.iloc[order_a],
        article_retire=retire.iloc[order_a],
        customer_signup=signup.iloc[order_c],
        customer_segment=segment.iloc[order_c],
    )


# ---------------------------------------------------------------------------
# Calendar: shop traffic by day
# ---------------------------------------------------------------------------


class _Calendar:
    def __init__(self, first_day: pd.Timestamp, days: int):
        self.first_day = first_day
        self.days = days
        self.dates = pd.date_range(first_day, periods=days, freq="D")
        self.weeks = (days + 6) // 7
        self.week_of_day = np.arange(days) // 7
        # Middle day of each week, for seasonal curves.
        mid = first_day + pd.to_timedelta(
            np.minimum(np.arange(self.weeks) * 7 + 3, days - 1), unit="D"
        )
        self.week_doy = mid.dayofyear.to_numpy()
        self.week_month_day = list(zip(mid.month, mid.day, strict=True))
        self.traffic = self._traffic()

    def day(self, day_index) -> np.ndarray:
        return (
            np.datetime64(self.first_day.date(), "D")
            + np.asarray(day_index).astype("timedelta64[D]")
        ).astype("datetime64[ns]")

    def _traffic(self) -> np.ndarray:
        d = self.dates
        weight = DOW_WEIGHTS[d.dayofweek.to_numpy()].copy()
        doy = d.dayofyear.to_numpy()
        # Slow yearly wave peaking in December, low in February.
        weight *= 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350) / 365.25)
        month, day = d.month.to_numpy(), d.day.to_numpy()
        weight *= np.where((month == 1) & (day <= 21), 1.3, 1.0)  # January sale
        weight *= np.where(
            ((month == 6) & (day >= 24)) | ((month == 7) & (day <= 21)), 1.25, 1.0
        )  # summer sale
        weight *= np.where((month == 12) & (day <= 23), 1.25, 1.0)  # Christmas run-up
        weight *= np.where((month == 12) & ((day == 24) | (day == 26)), 0.5, 1.0)
        weight *= np.where((month == 12) & (day == 25), 0.05, 1.0)  # closed; online only
        # Black Friday: the fourth Friday of November and the weekend after.
        black_friday = (month == 11) & (d.dayofweek.to_numpy() == 4) & (day >= 22) & (day <= 28)
        bf_idx = np.flatnonzero(black_friday)
        for offset, boost in (
            (0, 2.2),
            (1, 1.5),
            (2, 1.3),
            (3, 1.6),
        ):  # Fri, Sat, Sun, Cyber Monday
            idx = bf_idx + offset
            weight[idx[idx < len(weight)]] *= boost
        return weight

    def in_sale(self, week: int) -> bool:
        month, day = self.week_month_day[week]
        return (
            (month == 1 and day <= 21) or (month == 6 and day >= 24) or (month == 7 and day <= 21)
        )


def _season_curve(season: int, doy: np.ndarray) -> np.ndarray:
    """Relative demand of a season's product types over the year (mean about 1)."""
    if season == SUMMER:
        curve = np.exp(1.4 * np.cos(2 * np.pi * (doy - 190) / 365.25))
    elif season == WINTER:
        curve = np.exp(1.4 * np.cos(2 * np.pi * (doy - 10) / 365.25))
    elif season == MIDSEASON:
        curve = np.exp(0.9 * np.cos(4 * np.pi * (doy - 100) / 365.25))
    else:
        return np.ones(len(doy))
    return curve / np.exp(1.4 if season != MIDSEASON else 0.9) * 2.2


# ---------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------


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
    rows = []
    colour_names = [c[5] for c in COLOURS]
    for p in range(n_products):
        seg = SEGMENTS[target[p]]
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
        colours = np.argsort(-keys, kind="stable")[: variants[p]]
        price_level = 1.0 + 0.25 * np.clip(-seg.price_sensitivity, -1, 1)
        base = ptype.price * INDEX_PRICE[idx_group] * price_level * math.exp(rng.normal(0, 0.18))
        name, desc = _compose_text(rng, ptype)
        rows.append(
            (
                p,
                target[p],
                idx_group,
                index,
                ptype,
                pattern,
                colours,
                _round_price(base),
                name,
                desc,
            )
        )

    launch_p, retire_p = _product_lifetimes(
        rng, [r[4].season for r in rows], [r[4].basic for r in rows], calendar
    )
    order = np.argsort(launch_p, kind="stable")
    # Newer products get higher product codes, as in the H&M catalogue.
    steps = rng.integers(1, max(2, min(60, 880_000 // max(n_products, 1))), size=n_products)
    codes = np.empty(n_products, dtype=np.int64)
    codes[order] = 108_775 + np.cumsum(steps)

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
    frame = pd.DataFrame.from_records(records)
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
    frame = frame.reset_index(drop=True)
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


# ---------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------


def _transactions(rng, art: _Articles, cust: _Customers, calendar: _Calendar) -> pd.DataFrame:
    n_art = len(art.frame)
    weeks = calendar.weeks
    week_idx = np.arange(weeks)

    # -- what is on sale each week, at what price -------------------------------------
    launch_w = art.launch_day // 7
    retire_w = art.retire_day // 7
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

    # -- demand per segment and week --------------------------------------------------
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
    sampler = _Sampler(seg_weight[:, None, :] * week_weight[None, :, :])  # (S, W, A)

    # -- visits ---------------------------------------------------------------------
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
