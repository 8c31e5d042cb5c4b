-- What one checkout does in PostgreSQL, for pgbench: the ceiling checkout is compared with.
-- Variables: :variant (the variant bought); :first_user and :first_cart, the first of one
-- shopper and cart per pgbench client; :method, the shipping method chosen (of the GB zone);
-- :with_code, 1 for a checkout with the discount code :voucher (bench/run.py's 10% BENCH10),
-- else 0. The statements are the ones order_place sends, in its order (the code is read by id
-- here, by its text there); the figures are a 10.00 line delivered to GB (VAT 20%) by
-- Standard (5.00), or with the code by Express (15.00). Not sent here: the order's email and
-- its task, which order_place queues in the same transaction.
\set user :first_user + :client_id
\set cart :first_cart + :client_id
BEGIN;
-- The cart locked: with a code, by the UPDATE that takes the code off it.
\if :with_code
UPDATE cart_cart SET voucher_code = '' WHERE id = :cart
  RETURNING id, user_id, session_key, voucher_code, created, updated;
\else
SELECT id, user_id, session_key, voucher_code, created, updated FROM cart_cart
  WHERE id = :cart FOR UPDATE;
\endif
-- The variant locked (not its product: buyers of its siblings do not wait), read with its
-- product, as the store reads a cart's lines.
SELECT v.id, v.price, v.stock, v.is_active, v.label, v.sku, p.name, p.is_active, p.category_id
  FROM catalog_productvariant v JOIN catalog_product p ON p.id = v.product_id
  WHERE v.id = :variant FOR NO KEY UPDATE OF v;
-- The methods offered for the address's country: its zone's, else the rest of the world's.
SELECT 1 FROM pricing_shippingzone WHERE countries::text LIKE '%GB%' LIMIT 1;
SELECT m.id, m.name, m.price, m.free_from, m.is_active, z.id, z.name, z.rest_of_world
  FROM pricing_shippingmethod m JOIN pricing_shippingzone z ON z.id = m.zone_id
  WHERE m.is_active AND m.zone_id IN (
    SELECT id FROM pricing_shippingzone WHERE countries::text LIKE '%GB%')
  ORDER BY m.price, m.name, m.id;
\if :with_code
-- The code, and whether it is limited to some products or categories (it is not), read FOR KEY
-- SHARE: staff edits wait for the checkout, other buyers of the code do not.
SELECT v.id, v.code, v.kind, v.value, v.min_subtotal, v.starts, v.ends, v.usage_limit, v.used,
    v.once_per_customer, v.is_active,
    EXISTS (SELECT 1 FROM pricing_voucher_products p WHERE p.voucher_id = v.id),
    EXISTS (SELECT 1 FROM pricing_voucher_categories c WHERE c.voucher_id = v.id)
  FROM pricing_voucher v WHERE v.id = :voucher LIMIT 1 FOR KEY SHARE;
\endif
SELECT id, country, region, name, rate, shipping_rate FROM pricing_taxrate WHERE country = 'GB'
  ORDER BY country, region;
WITH figures AS (
  SELECT * FROM (VALUES
    (0, 0.00, 5.00, 3.00, 1.00, 18.00, 'Standard', '', 2.00),
    (1, 1.00, 15.00, 4.80, 3.00, 28.80, 'Express', 'BENCH10', 1.80)
  ) AS f (with_code, discount, shipping, tax, shipping_tax, total, method_name, code, line_tax)
  WHERE with_code = :with_code
), new_order AS (
  INSERT INTO orders_order (number, user_id, email, status, currency, subtotal, discount,
    shipping, tax, shipping_tax, total, prices_include_tax, tax_name, tax_rate,
    shipping_tax_rate, shipping_method_id, shipping_method_name, voucher_code, note, full_name,
    address_line1, address_line2, city, postal_code, region, country, phone, checkout_token,
    carrier, tracking_number, tracking_url, created, updated)
  SELECT substr(md5(random()::text), 1, 11), :user, 'bench@example.com', 'pending_payment',
    'USD', 10.00, discount, shipping, tax, shipping_tax, total, false, 'VAT', 20.000, 20.000,
    :method, method_name, code, '', 'Bench', '1 Road', '', 'Town', '12345', '', 'GB', '',
    gen_random_uuid(), '', '', '', now(), now()
  FROM figures
  RETURNING id
), new_item AS (
  INSERT INTO orders_orderitem (order_id, variant_id, product_name, variant_label, product_sku,
    unit_price, quantity, line_total, discount, tax, tax_rate)
  SELECT new_order.id, :variant, 'Bench product', '', 'BENCH', 10.00, 1, 10.00,
    figures.discount, figures.line_tax, 20.000
  FROM new_order, figures
)
INSERT INTO orders_orderevent (order_id, kind, from_status, to_status, source, note, created)
SELECT id, 'status', '', 'pending_payment', 'checkout', '', now() FROM new_order
RETURNING order_id \gset
-- The stock taken with one conditional UPDATE, which says which rows it took.
UPDATE catalog_productvariant SET stock = stock - 1 WHERE id = :variant AND stock >= 1 RETURNING id;
DELETE FROM cart_cartitem WHERE cart_id = :cart;
\if :with_code
-- Last: the code's use recorded (a code without a use limit is not written: no row lock).
INSERT INTO pricing_voucherredemption (voucher_id, order_id, customer, once_per_customer, created)
  VALUES (:voucher, :order_id, 'bench@example.com', false, now());
\endif
COMMIT;
