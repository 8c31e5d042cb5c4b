-- What one checkout does in PostgreSQL, for pgbench: the ceiling checkout is compared with.
-- Variables: :product (the product bought); :first_user and :first_cart, the first of one
-- shopper and cart per pgbench client.
\set user :first_user + :client_id
\set cart :first_cart + :client_id
BEGIN;
UPDATE cart_cart SET updated = now() WHERE id = :cart;
SELECT id, price, stock, is_active FROM catalog_product WHERE id = :product FOR UPDATE;
UPDATE catalog_product SET stock = stock - 1 WHERE id = :product AND stock >= 1;
WITH new_order AS (
  INSERT INTO orders_order (number, user_id, email, status, currency, subtotal, shipping, total,
    full_name, address_line1, address_line2, city, postal_code, region, country, phone,
    checkout_token, created, updated)
  VALUES (substr(md5(random()::text), 1, 11), :user, 'bench@example.com', 'pending_payment', 'USD',
    10.00, 5.00, 15.00, 'Bench', '1 Road', '', 'Town', '12345', '', 'GB', '', gen_random_uuid(),
    now(), now())
  RETURNING id
), new_item AS (
  INSERT INTO orders_orderitem (order_id, product_id, product_name, product_sku, unit_price, quantity, line_total)
  SELECT id, :product, 'Bench product', 'BENCH', 10.00, 1, 10.00 FROM new_order
)
INSERT INTO orders_orderevent (order_id, from_status, to_status, source, note, created)
SELECT id, '', 'pending_payment', 'checkout', '', now() FROM new_order;
DELETE FROM cart_cartitem WHERE cart_id = :cart;
COMMIT;
