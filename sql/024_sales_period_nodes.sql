-- A category's market over a built period, answered per category: the rows the category
-- page's query returns (sellers named and the others, price bands, best-selling products)
-- worked out once for every category of the tree when the period is built
-- (marketplaced/sales/period_market.py), so the page reads a few dozen rows instead of summing
-- every product of a top-level category (tens of thousands at full scale).
CREATE TABLE sales_period_nodes (
    days        smallint NOT NULL,
    category_id integer NOT NULL,     -- the category with every category below it
    part        text NOT NULL,        -- seller, band or product
    top         boolean,              -- seller: a named seller (false: the others together)
    rank        bigint,               -- seller: the first rank the row holds
    key         bigint,               -- the seller, the band or the product (NULL as read)
    units       bigint NOT NULL,
    revenue     bigint NOT NULL,
    products    bigint,
    sellers     bigint,
    revenue_sq  numeric               -- seller: Σ revenue² of the sellers the row holds
);
CREATE INDEX sales_period_nodes_category ON sales_period_nodes (days, category_id);
