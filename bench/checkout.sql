-- What one checkout does in PostgreSQL, for pgbench: the ceiling checkout is compared with.
-- Variables: :variant (the variant bought); :first_user and :first_cart, the first of one
-- shopper and cart per pgbench client.
\set user :first_user + :client_id
\set cart :first_cart + :client_id
BEGIN;
UPDATE cart_cart SET updated = now() WHERE id = :cart;
-- The variant locked (not its product: buyers of its siblings do not wait), read with its
-- product, as the store reads a cart's lines.
SELECT v.id, v.price, v.stock, v.is_active, v.label, v.sku, p.name, p.is_active
  FROM catalog_productvariant v JOIN catalog_product p ON p.id = v.product_id
  WHERE v.id = :variant FOR NO KEY UPDATE OF v;
WITH new_order AS (
  INSERT INTO orders_order (number, user_id, email, status, currency, subtotal, shipping, total,
    full_name, address_line1, address_line2, city, postal_code, region, country, phone,
    checkout_token, created, updated)
  VALUES (substr(md5(random()::text), 1, 11), :user, 'bench@example.com', 'pending_payment', 'USD',
    10.00, 5.00, 15.00, 'Bench', '1 Road', '', 'Town', '12345', '', 'GB', '', gen_random_uuid(),
    now(), now())
  RETURNING id
), new_item AS (
  INSERT INTO orders_orderitem (order_id, variant_id, product_name, variant_label, product_sku,
    unit_price, quantity, line_total)
  SELECT id, :variant, 'Bench product', '', 'BENCH', 10.00, 1, 10.00 FROM new_order
)
INSERT INTO orders_orderevent (order_id, from_status, to_status, source, note, created)
SELECT id, '', 'pending_payment', 'checkout', '', now() FROM new_order;
-- The stock taken with one conditional UPDATE, which says which rows it took.
UPDATE catalog_productvariant SET stock = stock - 1 WHERE id = :variant AND stock >= 1 RETURNING id;
DELETE FROM cart_cartitem WHERE cart_id = :cart;
COMMIT;
