"""The vocabulary of the synthetic shop: indexes, product types, colours, patterns,
customer segments and the constants the generator draws with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
