"""Source adapters: tiny files written here, plus one read of each real shared dataset."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguide.schema import ARTICLE_COLUMNS, CUSTOMER_COLUMNS, TRANSACTION_COLUMNS
from shopguide.sources import SourceData, SourceError, read_source
from shopguide.sources.movielens import GENRES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
if not SHARED.exists():
    SHARED = Path("/work/shared/data")

ARTICLES_CSV = """article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,graphical_appearance_name,colour_group_name,perceived_colour_master_name,department_name,index_name,index_group_name,section_name,garment_group_name,detail_desc
0108775015,108775,Strap top,253,Vest top,Garment Upper body,Solid,Black,Black,Jersey Basic,Ladieswear,Ladieswear,Womens Everyday Basics,Jersey Basic,Jersey top with narrow shoulder straps.
0110065001,110065,OP T-shirt (Idro),306,Bra,Underwear,Solid,Black,Black,Clean Lingerie,Lingeries/Tights,Ladieswear,Womens Lingerie,"Under-, Nightwear","Microfibre T-shirt bra, underwired."
0706016001,706016,Jade HW Skinny Denim TRS,272,Trousers,Garment Lower body,Denim,Light Blue,Blue,Denim Trousers,Divided,Divided,Ladies Denim,Trousers Denim,
"""

TRANSACTIONS_CSV = """t_dat,customer_id,article_id,price,sales_channel_id
2020-09-20,c1,108775015,0.0169,2
2020-09-20,c1,706016001,0.0338,2
2020-09-21,c2,0110065001,0.0254,1
2020-09-22,c3,108775015,0.0169,1
"""

CUSTOMERS_CSV = """customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code
c1,1.0,1.0,ACTIVE,Regularly,24,p1
c2,,,PRE-CREATE,None,,p2
"""


def write(path: Path, text: str, *, gz: bool = False, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


@pytest.fixture
def hm_dir(tmp_path) -> Path:
    folder = tmp_path / "hm"
    write(folder / "articles.csv", ARTICLES_CSV)
    write(folder / "transactions_train.csv", TRANSACTIONS_CSV)
    write(folder / "customers.csv", CUSTOMERS_CSV)
    return folder


# -- H&M --------------------------------------------------------------------------


def test_hm_csv_directory_reads_into_the_raw_shape(hm_dir):
    data = read_source("hm", hm_dir)
    assert isinstance(data, SourceData)
    tx, art, cust = data.transactions, data.articles, data.customers

    assert list(tx.columns) == list(TRANSACTION_COLUMNS)
    assert list(art.columns[: len(ARTICLE_COLUMNS)]) == list(ARTICLE_COLUMNS)
    assert "product_type_no" in art.columns  # extra H&M columns are kept
    assert list(cust.columns) == list(CUSTOMER_COLUMNS)

    assert str(tx["t_dat"].dtype) == "datetime64[ns]"
    assert (tx["t_dat"] == tx["t_dat"].dt.normalize()).all()
    # 9-digit ids in the transactions are zero-padded to join the catalogue.
    assert tx["article_id"].tolist() == ["0108775015", "0706016001", "0110065001", "0108775015"]
    assert tx["article_id"].isin(art["article_id"]).all()
    assert tx["price"].dtype == np.float64
    assert tx["sales_channel_id"].tolist() == [2, 2, 1, 1]
    assert tx["quantity"].tolist() == [1, 1, 1, 1]
    assert art["product_code"].tolist() == [108775, 110065, 706016]
    assert art.loc[2, "detail_desc"] is None
    assert art.loc[1, "garment_group_name"] == "Under-, Nightwear"

    # FN/Active are lower-cased; "None" is a value, an empty cell is null.
    assert cust.loc[0, "fn"] == 1.0 and cust.loc[0, "active"] == 1.0
    assert cust.loc[1, "fashion_news_frequency"] == "None"
    assert np.isnan(cust.loc[1, "age"])
    # c3 bought without being in the customers file: derived, attributes unknown.
    assert cust["customer_id"].tolist() == ["c1", "c2", "c3"]
    derived = cust.iloc[2]
    assert derived["club_member_status"] is None and derived["fashion_news_frequency"] is None
    assert any("1 customers derived" in note for note in data.notes)
    assert data.files["transactions"].endswith("transactions_train.csv")
    assert data.files["customers"].endswith("customers.csv")


def test_hm_parquet_gzip_and_several_transaction_files(tmp_path):
    folder = tmp_path / "hm"
    folder.mkdir()
    articles = pd.read_csv(pd.io.common.StringIO(ARTICLES_CSV), dtype={"article_id": str})
    articles["article_id"] = articles["article_id"].astype("int64")  # 9-digit ints
    articles.to_parquet(folder / "articles.parquet", index=False)
    tx = pd.read_csv(pd.io.common.StringIO(TRANSACTIONS_CSV), dtype={"article_id": str})
    tx["t_dat"] = pd.to_datetime(tx["t_dat"]).dt.date  # Parquet date32 like the Kaggle export
    tx.iloc[:2].to_parquet(folder / "transactions_week1.parquet", index=False)
    write(folder / "transactions_week2.csv.gz", tx.iloc[2:].to_csv(index=False), gz=True)

    data = read_source("generated", folder)
    assert data.articles["article_id"].tolist() == ["0108775015", "0110065001", "0706016001"]
    assert len(data.transactions) == 4
    assert data.transactions.index.tolist() == [0, 1, 2, 3]
    assert data.transactions["t_dat"].tolist() == list(
        pd.to_datetime(["2020-09-20", "2020-09-20", "2020-09-21", "2020-09-22"])
    )
    assert data.transactions["article_id"].isin(data.articles["article_id"]).all()
    assert "transactions_week1.parquet" in data.files["transactions"]
    assert "transactions_week2.csv.gz" in data.files["transactions"]
    # No customers file: every buyer is derived.
    assert sorted(data.customers["customer_id"]) == ["c1", "c2", "c3"]
    assert "customers" not in data.files


def test_unparsable_values_become_null_and_rows_are_kept(hm_dir):
    write(
        hm_dir / "transactions_train.csv",
        "t_dat,customer_id,article_id,price,sales_channel_id\n"
        "2020-09-31,c1,108775015,0.01,2\n"  # no such day
        "2020-09-20,,108775015,abc,x\n"  # no customer, text price and channel
        "2020-09-20,c1,108775015,-0.5,1\n"  # negative price: the ingest step decides
        "2020-09-20,c1,108775015,-0.5,1\n",  # duplicate: kept too
    )
    tx = read_source("hm", hm_dir).transactions
    assert len(tx) == 4
    assert pd.isna(tx.loc[0, "t_dat"])
    assert tx.loc[1, "customer_id"] is None
    assert np.isnan(tx.loc[1, "price"]) and pd.isna(tx.loc[1, "sales_channel_id"])
    assert tx.loc[2, "price"] == -0.5


def test_source_data_filters_by_day(hm_dir):
    data = read_source("hm", hm_dir)
    assert [d.strftime("%Y-%m-%d") for d in data.days()] == [
        "2020-09-20",
        "2020-09-21",
        "2020-09-22",
    ]
    assert len(data.until("2020-09-21").transactions) == 3
    assert len(data.between("2020-09-21", "2020-09-21").transactions) == 1
    assert len(data.until("2020-09-21").customers) == len(data.customers)  # customers stay whole


def test_missing_required_column_names_file_and_column(hm_dir):
    write(
        hm_dir / "transactions_train.csv",
        "t_dat,customer_id,article_id,amount\n2020-09-20,c1,1,2\n",
    )
    with pytest.raises(SourceError) as info:
        read_source("hm", hm_dir)
    message = str(info.value)
    assert "transactions_train.csv" in message and "'price'" in message
    assert "found: t_dat, customer_id, article_id, amount" in message
    assert "t_dat, customer_id, article_id, price, sales_channel_id" in message  # the fix


def test_wrong_delimiter_is_reported(hm_dir):
    write(hm_dir / "articles.csv", ARTICLES_CSV.replace(",", ";"))
    with pytest.raises(SourceError, match=r"articles\.csv looks semicolon-separated"):
        read_source("hm", hm_dir)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty \\(0 bytes\\)"),
        (b"t_dat,customer_id,article_id,price,sales_channel_id\n", "has no data rows"),
        (b'a,b\n1,"unterminated\n', "malformed CSV"),
        (
            b"t_dat,customer_id,article_id,price,sales_channel_id\n2020-09-20,c1,1,2,3,4,5\n",
            "more fields than the header",
        ),
    ],
)
def test_empty_or_broken_files(hm_dir, content, expected):
    (hm_dir / "transactions_train.csv").write_bytes(content)
    with pytest.raises(SourceError, match=expected) as info:
        read_source("hm", hm_dir)
    assert "transactions_train.csv" in str(info.value)


def test_corrupt_parquet_and_gzip(tmp_path, hm_dir):
    (hm_dir / "transactions_train.csv").unlink()
    (hm_dir / "transactions.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(SourceError, match="transactions.parquet is not a readable Parquet file"):
        read_source("hm", hm_dir)
    (hm_dir / "transactions.parquet").unlink()
    (hm_dir / "transactions.csv.gz").write_bytes(gzip.compress(TRANSACTIONS_CSV.encode())[:40])
    with pytest.raises(SourceError, match="transactions.csv.gz is not a complete gzip file"):
        read_source("hm", hm_dir)


def test_missing_directory_and_missing_files(tmp_path, hm_dir):
    with pytest.raises(SourceError, match="does not exist") as info:
        read_source("hm", tmp_path / "nowhere")
    assert "SHOPGUIDE_SOURCE_PATH" in str(info.value)
    (hm_dir / "transactions_train.csv").unlink()
    with pytest.raises(SourceError, match=r"no transactions file in .*hm"):
        read_source("hm", hm_dir)
    write(hm_dir / "transactions.xlsx", "not supported")
    with pytest.raises(SourceError, match="unsupported format"):
        read_source("hm", hm_dir)
    with pytest.raises(SourceError, match="is a file, not a directory"):
        read_source("hm", hm_dir / "articles.csv")


def test_unknown_source_name(hm_dir):
    with pytest.raises(SourceError, match="unknown source 'csv'.*online-retail"):
        read_source("csv", hm_dir)


# -- UCI Online Retail ---------------------------------------------------------------

RETAIL_CSV = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536366,85123a,WHITE HANGING HEART T-LIGHT HOLDER,2,12/2/2010 9:00,2.55,,United Kingdom
536367,85123A,CREAM HANGING HEART T-LIGHT HOLDER,1,12/2/2010 9:05,2.95,12583,France
536368,22633,HAND WARMER UNION JACK,6,12/3/2010 10:00,1.85,12583,France
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,12/3/2010 11:00,2.55,17850,United Kingdom
536380,22633,HAND WARMER UNION JACK,-3,12/3/2010 11:30,1.85,17850,United Kingdom
536381,POST,POSTAGE,1,12/3/2010 12:00,18.00,12583,France
536382,gift_0001_20,Dotcomgiftshop Gift Voucher £20.00,1,12/3/2010 12:10,17.02,,United Kingdom
536383,22139,,56,12/3/2010 12:20,0.00,,United Kingdom
536384,22386,JUMBO BAG PINK POLKADOT,10,not a date,1.95,13047,United Kingdom
"""


def test_online_retail_cleaning_and_mapping(tmp_path):
    path = write(tmp_path / "retail.csv.gz", RETAIL_CSV, gz=True)
    data = read_source("online-retail", path)
    tx = data.transactions
    assert list(tx.columns) == list(TRANSACTION_COLUMNS)
    assert data.dropped == {
        "cancellation or return": 2,
        "non-product stock code": 2,
        "zero or negative unit price": 1,
    }
    # Kept rows keep their position in the file (for quarantine line numbers).
    assert tx.index.tolist() == [0, 1, 2, 3, 4, 10]
    assert tx["article_id"].tolist() == ["85123A", "71053", "85123A", "85123A", "22633", "22386"]
    assert tx["customer_id"].tolist() == ["17850", "17850", None, "12583", "12583", "13047"]
    assert tx["quantity"].tolist() == [6, 6, 2, 1, 6, 10]
    assert tx["price"].tolist() == [2.55, 3.39, 2.55, 2.95, 1.85, 1.95]
    assert (tx["sales_channel_id"] == 1).all()
    assert tx["t_dat"].iloc[:5].dt.strftime("%Y-%m-%d").tolist() == [
        "2010-12-01", "2010-12-01", "2010-12-02", "2010-12-02", "2010-12-03",
    ]  # fmt: skip
    assert pd.isna(tx.loc[10, "t_dat"])  # unreadable date kept for quarantine

    art = data.articles.set_index("article_id")
    assert sorted(art.index) == ["22386", "22633", "71053", "85123A"]
    assert art.loc["85123A", "prod_name"] == "WHITE HANGING HEART T-LIGHT HOLDER"  # most frequent
    assert art.loc["85123A", "product_type_name"] == "Candle holder"
    assert art.loc["85123A", "product_group_name"] == "Lights & Candles"
    assert art.loc["85123A", "product_code"] == 85123
    assert art.loc["22386", "product_group_name"] == "Bags & Purses"
    assert art.loc["22386", "colour_group_name"] == "Pink"
    assert art.loc["22386", "graphical_appearance_name"] == "Dot"

    cust = data.customers.set_index("customer_id")
    assert sorted(cust.index) == ["12583", "13047", "17850"]
    assert cust.loc["12583", "postal_code"] == "France"
    assert cust["fashion_news_frequency"].isna().all()  # no consent known: opted out


def test_online_retail_latin1_and_missing_column(tmp_path):
    path = write(tmp_path / "retail.csv", RETAIL_CSV, encoding="latin-1")
    data = read_source("online-retail", path)
    assert len(data.transactions) == 6
    folder = tmp_path / "exports"
    write(folder / "2011.csv", RETAIL_CSV.replace("InvoiceDate", "Date"))
    with pytest.raises(SourceError) as info:
        read_source("online-retail", folder)
    assert "2011.csv" in str(info.value) and "'InvoiceDate'" in str(info.value)
    with pytest.raises(SourceError, match="does not exist"):
        read_source("online-retail", tmp_path / "missing.csv")


# -- MovieLens ----------------------------------------------------------------------


@pytest.fixture
def movielens_dir(tmp_path) -> Path:
    folder = tmp_path / "ml-100k"
    write(
        folder / "u.data",
        "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t242\t1\tnot-a-time\n",
    )
    flags_242 = "|".join(["0", "0", "0", "1", "1", "1"] + ["0"] * 13)
    flags_302 = "|".join(["0"] * 6 + ["1", "0", "0"] + ["0"] * 10)
    flags_none = "|".join(["1"] + ["0"] * 18)
    write(
        folder / "u.item",
        f"242|Kolya (1996)|24-Jan-1997||http://x|{flags_242}\n"
        f"302|L.A. Confidential (1997)|01-Jan-1997||http://y|{flags_302}\n"
        f"267|unknown||||{flags_none}\n",
        encoding="latin-1",
    )
    write(
        folder / "u.user", "196|49|M|writer|55105\n186|39|F|executive|00000\n22|25|M|writer|40206\n"
    )
    return tmp_path


def test_movielens_mapping(movielens_dir):
    data = read_source("movielens", movielens_dir)  # the parent of ml-100k works too
    tx = data.transactions
    assert tx["customer_id"].tolist() == ["196", "186", "22"]
    assert tx["article_id"].tolist() == ["242", "302", "242"]
    assert tx["t_dat"].iloc[0] == pd.Timestamp("1997-12-04")
    assert pd.isna(tx["t_dat"].iloc[2])
    assert (
        (tx["price"] == 1.0).all()
        and (tx["quantity"] == 1).all()
        and (tx["sales_channel_id"] == 1).all()
    )

    art = data.articles.set_index("article_id")
    assert art.loc["242", "prod_name"] == "Kolya (1996)"
    assert art.loc["242", "product_type_name"] == "Animation"
    assert art.loc["242", "product_group_name"] == "Animation"
    assert art.loc["242", "detail_desc"] == "Genres: Animation, Children's, Comedy"
    assert art.loc["242", "department_name"] == "1990s"
    assert art.loc["302", "product_type_name"] == "Crime"
    assert art.loc["267", "product_type_name"] == "unknown"
    assert art.loc["267", "department_name"] is None

    cust = data.customers.set_index("customer_id")
    assert cust.loc["186", "postal_code"] == "00000"  # zip codes stay text
    assert cust.loc["196", "age"] == 49.0
    assert (cust["club_member_status"] == "ACTIVE").all()
    assert cust["fashion_news_frequency"].isna().all()


def test_movielens_missing_file_and_wrong_delimiter(movielens_dir):
    folder = movielens_dir / "ml-100k"
    write(folder / "u.data", "196,242,3,881250949\n")
    with pytest.raises(SourceError, match=r"u\.data does not have 4 tab-separated fields"):
        read_source("movielens", folder)
    (folder / "u.user").unlink()
    with pytest.raises(SourceError, match=r"u\.user does not exist"):
        read_source("movielens", folder)


# -- the real datasets ------------------------------------------------------------


def _timed(name, path):
    start = time.perf_counter()
    data = read_source(name, path)
    return data, time.perf_counter() - start


@pytest.mark.skipif(not (SHARED / "hm").exists(), reason="shared H&M data not present")
def test_real_hm_week():
    data, seconds = _timed("hm", SHARED / "hm")
    assert len(data.transactions) == 240_311
    assert len(data.articles) == 105_542
    assert data.transactions["article_id"].str.len().eq(10).all()
    assert data.transactions["article_id"].isin(data.articles["article_id"]).all()
    # The customers sample does not join to this week: the buyers are derived.
    assert data.transactions["customer_id"].isin(data.customers["customer_id"]).all()
    assert data.transactions["customer_id"].nunique() == 68_984
    assert seconds < 30


@pytest.mark.skipif(
    not (SHARED / "online-retail").exists(), reason="shared Online Retail data not present"
)
def test_real_online_retail():
    path = SHARED / "online-retail" / "online_retail_2010-12-01_2011-09-30.csv.gz"
    data, seconds = _timed("online-retail", path)
    tx = data.transactions
    assert len(tx) + sum(data.dropped.values()) == 370_931
    assert 0.2 < tx["customer_id"].isna().mean() < 0.35  # anonymous sales kept
    assert tx["t_dat"].notna().all()
    assert tx["t_dat"].min() == pd.Timestamp("2010-12-01") and tx["t_dat"].max() == pd.Timestamp(
        "2011-09-30"
    )
    assert (tx["price"] > 0).all() and (tx["quantity"] > 0).all()
    assert tx["article_id"].isin(data.articles["article_id"]).all()
    assert data.articles["product_group_name"].nunique() >= 10
    assert (data.articles["product_group_name"] == "Other").mean() < 0.25
    assert seconds < 20


@pytest.mark.skipif(
    not (SHARED / "movielens-100k").exists(), reason="shared MovieLens data not present"
)
def test_real_movielens():
    data, seconds = _timed("movielens", SHARED / "movielens-100k")
    assert (len(data.customers), len(data.articles), len(data.transactions)) == (943, 1682, 100_000)
    assert data.transactions["t_dat"].notna().all()
    # Every genre leads some movie; "unknown" only for the two without a genre.
    assert set(data.articles["product_group_name"]) == set(GENRES)
    assert (data.articles["product_group_name"] == "unknown").sum() == 2
    assert seconds < 10
