"""The synthetic Uzum catalogue of the web benchmark (bench_web.py), generated set-based in SQL.

At scale 1: 1.5 M products, ≈ 6 M SKUs and ≈ 50 M history rows (≈ 10 M product-stats rows,
≈ 40 M price rows) over the last 90 days, 60 000 sellers and a three-level tree of 2 775
categories, plus the sales rollups the lists read (sales_*_daily), derived from that history.
Every statement is one `INSERT … SELECT … generate_series` (no row leaves PostgreSQL), so the
run is bound by the server, not by a client loop.

What the planner sees should look like Uzum, so the distributions are skewed, not uniform:
- activity (`bench_plan.act`, uniform in [0, 1)): a product is observed changed
  1 + ⌊89·act^13.4⌋ times in 90 days — the median product once, the top 5 % ≥ 45 times, the
  top 1 % about daily — and sells in proportion to its activity squared;
- categories: popular leaves hold most products (leaf index ∝ u^2.5); sellers likewise (u^3);
- SKUs per product 1 … 11 (mean ≈ 4), prices cubed towards cheap goods;
- titles from Russian/Uzbek nouns, brands and colours (a noun matches 1/30 of the catalogue).

A visit's rows share one stamp (`observed_at`) as the writer's batches do; every SKU of a
product has a row at each of the product's observations (price ± a few hundred so'm, stock).
The order counter only grows, so each stats row after the first is a sale: the product's day
row counts its growth at the cheapest SKU's base price (the rollup's order-counter method).

Per-product parameters live in an unlogged helper table `bench_plan`, so that every statement
draws the same numbers (hash-based, deterministic for a given scale).
"""

# ruff: noqa: S608 - every value in this SQL is a number generated here, none comes from outside

from __future__ import annotations

from dataclasses import dataclass

HISTORY_DAYS = 90
TOP_CATEGORIES = 25
MID_PER_TOP = 10
LEAVES_PER_MID = 10
#: bumped when the generated data changes: a reused database of another version is rebuilt
VERSION = 3


@dataclass(frozen=True, slots=True)
class Scale:
    products: int
    sellers: int

    @classmethod
    def of(cls, factor: float) -> Scale:
        products = max(1000, round(1_500_000 * factor))
        return cls(products, max(50, products // 25))


def leaves() -> tuple[int, int]:
    """First and last leaf category id."""
    mids = TOP_CATEGORIES * MID_PER_TOP
    first = TOP_CATEGORIES + mids + 1
    return first, first + mids * LEAVES_PER_MID - 1


# u(x): a uniform number in [0, 1) drawn from the hash of x (deterministic, any row order)
_U = "((hashint8({x}::bigint) & 2147483647)::float8 / 2147483648.0)"


def u(x: str) -> str:
    return _U.format(x=x)


_LOCAL_DAY = "(({t}) AT TIME ZONE 'Asia/Tashkent')::date"


def steps(s: Scale) -> list[tuple[str, str]]:
    """(name, SQL) in order; the numbers are inlined (every value is generated here)."""
    first_leaf, last_leaf = leaves()
    n_leaves = last_leaf - first_leaf + 1
    mids = TOP_CATEGORIES * MID_PER_TOP
    days = HISTORY_DAYS
    span = f"interval '{days} days'"
    return [
        (
            "partitions",
            f"SELECT marketplaced_ensure_partitions('price_history', {days // 30 + 2}, 1),"
            f" marketplaced_ensure_partitions('product_stats_history', {days // 30 + 2}, 1)",
        ),
        (
            "categories",
            f"""
            INSERT INTO categories (id, title, parent_id, product_amount)
            SELECT g, 'Категория ' || g, NULL, 0 FROM generate_series(1, {TOP_CATEGORIES}) g
            UNION ALL
            SELECT g, 'Подкатегория ' || g, 1 + (g - {TOP_CATEGORIES + 1}) % {TOP_CATEGORIES}, 0
            FROM generate_series({TOP_CATEGORIES + 1}, {TOP_CATEGORIES + mids}) g
            UNION ALL
            SELECT g, 'Раздел ' || g, {TOP_CATEGORIES + 1} + (g - {first_leaf}) % {mids}, 0
            FROM generate_series({first_leaf}, {last_leaf}) g""",
        ),
        (
            "sellers",
            f"""
            INSERT INTO sellers (id, title, link, rating, reviews, orders, official)
            SELECT g, 'Продавец ' || g || ' ' || (ARRAY['Savdo','Market','Shop','Trade',
                       'Store','Group'])[1 + g % 6], 'shop' || g,
                   round((3 + {u("g * 5 + 1")} * 2)::numeric, 1),
                   ({u("g * 5 + 2")} * 5000)::bigint,
                   (power({u("g * 5 + 3")}, 3) * 200000)::bigint, {u("g * 5 + 4")} < 0.05
            FROM generate_series(1, {s.sellers}) g""",
        ),
        (
            "plan",
            # per product: activity, observations in the window, order growth per observation,
            # SKUs, base price, category, seller, first counter value
            f"""
            CREATE UNLOGGED TABLE bench_plan AS
            SELECT g::bigint AS id, a.act,
                   1 + floor(89 * power(a.act, 13.4))::int AS n_obs,
                   1 + floor(30 * power(a.act, 2) * {u("g * 17 + 3")})::int AS step,
                   1 + floor(10 * power({u("g * 17 + 4")}, 1.8))::int AS n_skus,
                   (5 + floor(power({u("g * 17 + 5")}, 3) * 8000))::bigint * 1000 AS base,
                   {first_leaf} + floor({n_leaves} * power({u("g * 17 + 6")}, 2.5))::int AS leaf,
                   1 + floor({s.sellers} * power({u("g * 17 + 7")}, 3))::bigint AS seller,
                   floor(2000 * power(a.act, 3) * {u("g * 17 + 8")})::bigint AS o0
            FROM generate_series(1, {s.products}) g,
                 LATERAL (SELECT {u("g * 17 + 1")} AS act) a""",
        ),
        ("plan key", "ALTER TABLE bench_plan ADD PRIMARY KEY (id)"),
        (
            # the secondary indexes of products and SKUs (GIN word index included) are built
            # after the load from their own definitions: one sort each, not 1.5 M inserts
            "drop catalogue indexes",
            """
            CREATE UNLOGGED TABLE bench_indexes AS
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename IN ('products', 'skus')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);
            DO $$ DECLARE r record; BEGIN
                FOR r IN SELECT indexname FROM bench_indexes LOOP
                    EXECUTE format('DROP INDEX %I', r.indexname);
                END LOOP;
            END $$""",
        ),
        (
            "products",
            f"""
            WITH w AS (
                SELECT ARRAY['Смартфон','Чехол','Наушники','Кроссовки','Футболка','Платье',
                    'Чайник','Пылесос','Утюг','Кофемашина','Рюкзак','Часы','Куртка','Шампунь',
                    'Крем','Игрушка','Конструктор','Книга','Лампа','Кабель','Зарядка','Мышь',
                    'Клавиатура','Монитор','Ноутбук','Планшет','Телевизор','Холодильник',
                    'Сковорода','Кастрюля'] AS nouns,
                       ARRAY['Samsung','Xiaomi','Apple','Huawei','Artel','Philips','Bosch','LG',
                    'Sony','Lenovo','Redmi','Oppo','Vivo','Realme','Tefal','Braun','Nike',
                    'Adidas','Puma','Zara'] AS brands,
                       ARRAY['чёрный','белый','синий','красный','зелёный','серый','розовый',
                    'бежевый'] AS colours,
                       ARRAY['Smartfon','G''ilof','Quloqchin','Krossovka','Futbolka','Ko''ylak',
                    'Choynak','Changyutgich','Dazmol','Qahva mashinasi','Ryukzak','Soat',
                    'Kurtka','Shampun','Krem','O''yinchoq','Konstruktor','Kitob','Chiroq','Kabel',
                    'Quvvatlagich','Sichqoncha','Klaviatura','Monitor','Noutbuk','Planshet',
                    'Televizor','Muzlatgich','Tova','Qozon'] AS nouns_uz
            )
            INSERT INTO products (id, title, title_ru, title_uz, category_id, seller_id, rating,
                reviews_amount, orders_amount, total_available, first_seen, updated_at)
            SELECT b.id, t.ru, t.ru, t.uz, b.leaf, b.seller,
                   CASE WHEN {u("b.id * 19 + 1")} < 0.2 THEN NULL
                        ELSE round((3 + {u("b.id * 19 + 2")} * 2)::numeric, 1) END,
                   o.orders / 20, o.orders,
                   CASE WHEN {u("b.id * 19 + 3")} < 0.15 THEN 0
                        ELSE (b.n_skus * {u("b.id * 19 + 4")} * 150)::bigint END,
                   now() - {span} - {u("b.id * 19 + 5")} * interval '300 days',
                   now() - {span} + (b.n_obs - 1 + 0.9 * {u("b.id * 29 + b.n_obs - 1")})
                       * {span} / b.n_obs
            FROM bench_plan b, w,
            LATERAL (SELECT b.o0 + (b.n_obs - 1) * b.step
                            + floor({u("b.id * 23 + b.n_obs - 1")} * b.step)::bigint AS orders) o,
            LATERAL (SELECT
                w.nouns[1 + b.id % 30] || ' ' || w.brands[1 + (b.id / 30) % 20] || ' '
                    || (b.id % 997) || ' ' || w.colours[1 + (b.id / 600) % 8] AS ru,
                w.nouns_uz[1 + b.id % 30] || ' ' || w.brands[1 + (b.id / 30) % 20] || ' '
                    || (b.id % 997) AS uz) t""",
        ),
        (
            "uzum_visits",
            """
            INSERT INTO uzum_visits (product_id, visited_at, last_seen, outcome)
            SELECT id, updated_at, updated_at, 'changed' FROM products""",
        ),
        (
            "skus",
            f"""
            INSERT INTO skus (id, product_id, full_price, purchase_price, available_amount,
                stock_type, characteristics, first_seen, last_seen)
            SELECT b.id * 16 + k, b.id, (b.base + k * 1000) * 13 / 10, b.base + k * 1000,
                   floor(150 * {u("b.id * 16 + k")})::bigint, 'FBO',
                   'Rang: ' || (ARRAY['Qora','Oq','Koʻk','Qizil'])[1 + k % 4] || ', Oʻlcham: '
                       || (ARRAY['S','M','L','XL'])[1 + (b.id + k) % 4],
                   now() - {span}, NULL::timestamptz
            FROM bench_plan b, generate_series(0, b.n_skus - 1) k""",
        ),
        (
            "catalogue indexes",
            """
            DO $$ DECLARE r record; BEGIN
                FOR r IN SELECT indexdef FROM bench_indexes LOOP EXECUTE r.indexdef; END LOOP;
            END $$""",
        ),
        (
            # built again after the load: one sort per index instead of 50 M random inserts
            "drop history indexes",
            "ALTER TABLE price_history DROP CONSTRAINT price_history_pkey;"
            " DROP INDEX price_history_product;"
            " ALTER TABLE product_stats_history DROP CONSTRAINT product_stats_history_pkey;"
            " ALTER TABLE sales_product_daily DROP CONSTRAINT sales_product_daily_pkey;"
            " DROP INDEX sales_product_daily_product, sales_product_daily_seller,"
            " sales_product_daily_category",
        ),
        (
            "product_stats_history",
            f"""
            INSERT INTO product_stats_history (product_id, observed_at, orders_amount,
                reviews_amount, rating, total_available)
            SELECT b.id, now() - {span} + (k + 0.9 * {u("b.id * 29 + k")}) * {span} / b.n_obs,
                   o.orders, o.orders / 20, 4.5, (b.n_skus * 75)::bigint
            FROM bench_plan b, generate_series(0, b.n_obs - 1) k,
            LATERAL (SELECT b.o0 + k * b.step
                            + floor({u("b.id * 23 + k")} * b.step)::bigint AS orders) o
            ORDER BY 2""",
        ),
        (
            "price_history",
            f"""
            INSERT INTO price_history (sku_id, observed_at, product_id, purchase_price,
                full_price, available_amount)
            SELECT b.id * 16 + j, now() - {span} + (k + 0.9 * {u("b.id * 29 + k")})
                       * {span} / b.n_obs,
                   b.id, b.base + j * 1000 + (floor({u("(b.id * 16 + j) * 97 + k")} * 5) - 2)
                       * 500, (b.base + j * 1000) * 13 / 10,
                   floor(150 * {u("(b.id * 16 + j) * 89 + k")})::bigint
            FROM bench_plan b, generate_series(0, b.n_skus - 1) j,
                 generate_series(0, b.n_obs - 1) k
            ORDER BY 2""",
        ),
        (
            "sales_product_daily",
            # one row per observed product-day: the counter's growth since the observation
            # before, priced at the cheapest SKU's base price
            f"""
            INSERT INTO sales_product_daily (day, product_id, seller_id, category_id, units,
                revenue, units_orders, units_stock, units_split, revenue_split, restocked,
                observations, first_seen)
            SELECT {_LOCAL_DAY.format(t="h.observed_at")}, h.product_id, b.seller, b.leaf,
                   sum(h.units), sum(h.units) * b.base, sum(h.units), 0, 0, 0, 0,
                   count(*) * (1 + b.n_skus), bool_or(h.first)
            FROM (SELECT product_id, observed_at,
                         coalesce(orders_amount - lag(orders_amount) OVER w, 0) AS units,
                         lag(orders_amount) OVER w IS NULL AS first
                  FROM product_stats_history WINDOW w AS (PARTITION BY product_id
                                                          ORDER BY observed_at)) h
            JOIN bench_plan b ON b.id = h.product_id
            GROUP BY 1, 2, b.seller, b.leaf, b.base, b.n_skus""",
        ),
        (
            "history indexes",
            # the definitions of 002_uzum.sql and 014_sales.sql
            "ALTER TABLE price_history ADD PRIMARY KEY (sku_id, observed_at);"
            " CREATE INDEX price_history_product ON price_history (product_id, observed_at);"
            " ALTER TABLE product_stats_history ADD PRIMARY KEY (product_id, observed_at);"
            " ALTER TABLE sales_product_daily ADD PRIMARY KEY (day, product_id);"
            " CREATE INDEX sales_product_daily_product ON sales_product_daily (product_id, day);"
            " CREATE INDEX sales_product_daily_seller ON sales_product_daily (seller_id, day);"
            " CREATE INDEX sales_product_daily_category ON sales_product_daily"
            " (category_id, day)",
        ),
        (
            "sales_seller_daily",
            """
            INSERT INTO sales_seller_daily (day, seller_id, units, revenue, units_orders,
                units_stock, units_split, revenue_split, observations, products_with_sales)
            SELECT day, seller_id, sum(units), sum(revenue), sum(units_orders), 0, 0, 0,
                   sum(observations), count(*) FILTER (WHERE units > 0)
            FROM sales_product_daily GROUP BY 1, 2""",
        ),
        (
            "sales_category_daily",
            f"""
            INSERT INTO sales_category_daily (day, category_id, units, revenue, units_orders,
                units_stock, units_split, revenue_split, observations, products_with_sales)
            SELECT d.day, c.cat, sum(d.units), sum(d.revenue), sum(d.units_orders), 0, 0, 0,
                   sum(d.observations), count(*) FILTER (WHERE d.units > 0)
            FROM sales_product_daily d,
                 LATERAL (VALUES (d.category_id),
                                 ({TOP_CATEGORIES + 1} + (d.category_id - {first_leaf}) % {mids}),
                                 (1 + ({TOP_CATEGORIES + 1} + (d.category_id - {first_leaf})
                                       % {mids} - {TOP_CATEGORIES + 1}) % {TOP_CATEGORIES})
                         ) c(cat)
            GROUP BY 1, 2""",
        ),
        (
            "sales_days",
            f"""
            INSERT INTO sales_days (day, observed_pct, max_gap_min, complete, final)
            SELECT d::date, 100, 5, true, d::date < {_LOCAL_DAY.format(t="now()")}
            FROM generate_series({_LOCAL_DAY.format(t=f"now() - {span}")},
                                 {_LOCAL_DAY.format(t="now()")}, interval '1 day') d""",
        ),
        (
            "writer_commits",
            # the latest batch stamps: the minute job starts from the top of the log
            """
            INSERT INTO writer_commits (observed_at)
            SELECT DISTINCT observed_at FROM product_stats_history
            WHERE observed_at > now() - interval '1 hour' ORDER BY 1""",
        ),
        (
            "dead_letters",
            f"""
            INSERT INTO dead_letters (scope, entity_id, kind, reason, attempts)
            SELECT 'uzum.product', {s.products * 2} + g, 'http_5xx',
                   'HTTP 503 after 5 attempts', 5
            FROM generate_series(1, 500) g""",
        ),
        (
            "job_runs",
            """
            INSERT INTO job_runs (job, started_at, finished_at, outcome, rows_touched)
            SELECT (ARRAY['analytics','alerts','maintenance','health'])[1 + g % 4],
                   now() - g * interval '15 minutes', now() - g * interval '15 minutes'
                       + interval '20 seconds', 'ok', g * 10
            FROM generate_series(1, 2000) g""",
        ),
        ("vacuum analyze", "VACUUM ANALYZE"),
    ]
