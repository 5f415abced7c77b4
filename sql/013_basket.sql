-- Spaza schema, step 13: the basket (an order holds several lines), the delivery address, the
-- order's status history, unpaid orders that expire, a cap on a customer's open unpaid orders,
-- and the orders' branch of the customer timeline.
--
-- orders keeps product_id, qty and unit_cents: they are the order's FIRST line, so every
-- statement written before the basket (the single-product create, the till, the slip, the
-- SMS notifications, spazactl's lists) keeps working. The lines themselves are order_items; a
-- trigger writes line 1 from the orders row, the basket's function writes the others, and a
-- deferred constraint trigger proves at commit that the order's total is the sum of its lines.

ALTER TABLE orders DROP CONSTRAINT orders_check;	-- total = unit x qty: true of line 1 only now
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents > 0);
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
	CHECK (status IN ('awaiting_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'expired'));
ALTER TABLE orders
	ADD COLUMN delivery_address text CHECK (length(delivery_address) BETWEEN 1 AND 40),
	ADD COLUMN delivery_note text CHECK (length(delivery_note) BETWEEN 1 AND 40),
	ADD COLUMN expired_at timestamptz;
-- the expiry sweep's queue, and the cap's count
CREATE INDEX orders_unpaid_by_created ON orders (created_at) WHERE status = 'awaiting_payment';
CREATE INDEX orders_unpaid_by_customer ON orders (customer_id) WHERE status = 'awaiting_payment';

CREATE TABLE order_items (
	order_id    bigint NOT NULL REFERENCES orders(id),
	line        smallint NOT NULL CHECK (line BETWEEN 1 AND 20),
	product_id  integer NOT NULL REFERENCES products(id),
	qty         integer NOT NULL CHECK (qty > 0),
	unit_cents  bigint NOT NULL CHECK (unit_cents > 0),
	PRIMARY KEY (order_id, line),
	UNIQUE (order_id, product_id)
);
INSERT INTO order_items (order_id, line, product_id, qty, unit_cents)
	SELECT id, 1, product_id, qty, unit_cents FROM orders;

-- One row per status an order took, with its time: the order's detail on USSD and the
-- customer's timeline. from_status NULL is the order being placed.
CREATE TABLE order_status_history (
	id          bigserial PRIMARY KEY,
	order_id    bigint NOT NULL REFERENCES orders(id),
	customer_id bigint NOT NULL REFERENCES customers(id),
	from_status text,
	status      text NOT NULL,
	at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_by_order ON order_status_history (order_id, id);
CREATE INDEX order_status_history_by_customer ON order_status_history (customer_id, at DESC);
INSERT INTO order_status_history (order_id, customer_id, from_status, status, at)
	SELECT id, customer_id, NULL, 'awaiting_payment', created_at FROM orders;
INSERT INTO order_status_history (order_id, customer_id, from_status, status, at)
	SELECT id, customer_id, 'awaiting_payment', status, updated_at FROM orders WHERE status <> 'awaiting_payment';

-- A new order: its first line and its first history row, whoever inserted it.
CREATE FUNCTION spaza__order_placed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO order_items (order_id, line, product_id, qty, unit_cents)
		VALUES (NEW.id, 1, NEW.product_id, NEW.qty, NEW.unit_cents);
	INSERT INTO order_status_history (order_id, customer_id, from_status, status, at)
		VALUES (NEW.id, NEW.customer_id, NULL, NEW.status, NEW.created_at);
	RETURN NULL;
END $$;
CREATE TRIGGER orders_placed AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION spaza__order_placed();

CREATE FUNCTION spaza__order_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO order_status_history (order_id, customer_id, from_status, status)
		VALUES (NEW.id, NEW.customer_id, OLD.status, NEW.status);
	RETURN NULL;
END $$;
CREATE TRIGGER orders_status_history AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION spaza__order_status_changed();

-- At commit (the basket writes its lines after the order): total = the sum of the lines.
CREATE FUNCTION spaza__order_total_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_total bigint;
	v_lines bigint;
BEGIN
	IF TG_TABLE_NAME = 'orders' THEN
		v_id := NEW.id;
	ELSIF TG_OP = 'DELETE' THEN
		v_id := OLD.order_id;
	ELSE
		v_id := NEW.order_id;
	END IF;
	SELECT o.total_cents INTO v_total FROM orders o WHERE o.id = v_id;
	SELECT sum(i.qty * i.unit_cents) INTO v_lines FROM order_items i WHERE i.order_id = v_id;
	IF v_total IS DISTINCT FROM v_lines THEN
		RAISE EXCEPTION 'order % totals % but its lines sum to %', v_id, v_total, v_lines
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER order_items_total AFTER INSERT OR UPDATE OR DELETE ON order_items
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION spaza__order_total_check();
CREATE CONSTRAINT TRIGGER orders_total AFTER UPDATE OF total_cents ON orders
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION spaza__order_total_check();

-- Give an unpaid order's stock and credit holds back and void its open slips; the caller holds
-- the order's row lock and sets the new status.
CREATE FUNCTION spaza__order_release(p_order_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_hold bigint;
BEGIN
	FOR v_hold IN SELECT h.id FROM holds h WHERE h.order_id = p_order_id AND h.status = 'pending' ORDER BY h.id LOOP
		PERFORM spaza__hold_release(v_hold, 'voided');
	END LOOP;
	UPDATE slips s SET status = 'voided' WHERE s.order_id = p_order_id AND s.status = 'open';
	-- line 1 only: the trigger below gives the other lines back, see there
	UPDATE products p SET stock = p.stock + o.qty FROM orders o WHERE o.id = p_order_id AND p.id = o.product_id;
END $$;

-- An order that ends unpaid or is cancelled gives back the stock of its lines 2..n. Line 1 is
-- the orders row's own product and quantity, which every canceller gives back itself
-- (spaza_order_cancel in 002 was written for one-line orders and does exactly that); so every
-- way an order ends returns every line, once.
CREATE FUNCTION spaza__order_lines_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE products p SET stock = p.stock + i.qty
		FROM (SELECT product_id, qty FROM order_items WHERE order_id = NEW.id AND line > 1 ORDER BY product_id) i
		WHERE p.id = i.product_id;
	RETURN NULL;
END $$;
CREATE TRIGGER orders_lines_back AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'expired') AND OLD.status NOT IN ('cancelled', 'expired'))
	EXECUTE FUNCTION spaza__order_lines_back();

-- Check out a basket: one order with a line per product, stock taken for every line or none.
-- outcome: ok            order_id, total_cents (a replayed key returns the first order)
--          out_of_stock  product_id: the first line that cannot be had (gone or too few left)
--          too_many      the customer already has p_cap unpaid orders
--          invalid       an empty or malformed basket
--          conflict      the key names another request's order (other customer or lines)
-- It never raises on a customer's input: spazad batches writes, and one error would undo
-- the batch.
CREATE FUNCTION spaza_basket_checkout(p_customer_id bigint, p_idem_key text, p_products integer[], p_qtys integer[],
				      p_address text, p_note text, p_cap integer,
				      OUT outcome text, OUT order_id bigint, OUT total_cents bigint, OUT product_id integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
	v_n integer := coalesce(array_length(p_products, 1), 0);
	v_prices bigint[] := '{}';
	v_price bigint;
	v_total bigint := 0;
	v_address text := nullif(btrim(p_address), '');
	v_note text := nullif(btrim(p_note), '');
	r record;
BEGIN
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_order FROM orders o WHERE o.idem_key = p_idem_key;
	IF FOUND THEN
		-- the key's order is this request's only with this customer and these very lines
		IF v_order.customer_id <> p_customer_id
		   OR ARRAY(SELECT i.product_id FROM order_items i WHERE i.order_id = v_order.id ORDER BY i.line)
		      IS DISTINCT FROM p_products
		   OR ARRAY(SELECT i.qty FROM order_items i WHERE i.order_id = v_order.id ORDER BY i.line)
		      IS DISTINCT FROM p_qtys THEN
			outcome := 'conflict';
		ELSE
			outcome := 'ok';
			order_id := v_order.id;
			total_cents := v_order.total_cents;
		END IF;
		RETURN;
	END IF;
	IF v_n < 1 OR v_n > 20 OR v_n <> coalesce(array_length(p_qtys, 1), 0)
	   OR EXISTS (SELECT 1 FROM unnest(p_qtys) q WHERE q IS NULL OR q < 1 OR q > 999)
	   OR (SELECT count(DISTINCT x) FROM unnest(p_products) x) <> v_n
	   OR length(v_address) > 40 OR length(v_note) > 40 THEN
		outcome := 'invalid';
		RETURN;
	END IF;
	-- one customer's checkouts queue here, so two sessions cannot both slip under the cap
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'invalid';
		RETURN;
	END IF;
	IF p_cap > 0 AND (SELECT count(*) FROM orders o WHERE o.customer_id = p_customer_id
			  AND o.status = 'awaiting_payment') >= p_cap THEN
		outcome := 'too_many';
		RETURN;
	END IF;
	-- lock the products in id order (as every stock writer does), then judge the lines in the
	-- customer's order so the one reported is the first they chose
	PERFORM 1 FROM products p WHERE p.id = ANY (p_products) ORDER BY p.id FOR UPDATE;
	FOR i IN 1 .. v_n LOOP
		SELECT p.price_cents INTO v_price FROM products p
			WHERE p.id = p_products[i] AND p.active AND p.stock >= p_qtys[i];
		IF NOT FOUND THEN
			outcome := 'out_of_stock';
			product_id := p_products[i];
			RETURN;
		END IF;
		v_prices := v_prices || v_price;
		v_total := v_total + v_price * p_qtys[i];
	END LOOP;
	INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key, delivery_address, delivery_note)
		VALUES (p_customer_id, p_products[1], p_qtys[1], v_prices[1], v_total, p_idem_key, v_address, v_note)
		RETURNING id INTO order_id;
	FOR i IN 2 .. v_n LOOP
		INSERT INTO order_items (order_id, line, product_id, qty, unit_cents)
			VALUES (order_id, i, p_products[i], p_qtys[i], v_prices[i]);
	END LOOP;
	FOR r IN SELECT u.p, u.q FROM unnest(p_products, p_qtys) AS u(p, q) ORDER BY u.p LOOP
		UPDATE products p SET stock = p.stock - r.q WHERE p.id = r.p;
	END LOOP;
	outcome := 'ok';
	total_cents := v_total;
END $$;

-- The customer cancels an unpaid order: stock, holds and slips back at once.
-- outcome: cancelled (also when it already was), not_cancellable (status says why), not_found
CREATE FUNCTION spaza_order_cancel_unpaid(p_order_id bigint, p_customer_id bigint,
					  OUT outcome text, OUT status text)
LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
BEGIN
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.customer_id <> p_customer_id THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	status := v_order.status;
	IF v_order.status = 'cancelled' THEN
		outcome := 'cancelled';
		RETURN;
	END IF;
	IF v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_cancellable';
		RETURN;
	END IF;
	PERFORM spaza__order_release(p_order_id);
	UPDATE orders o SET status = 'cancelled', cancelled_at = now(), updated_at = now() WHERE o.id = p_order_id;
	outcome := 'cancelled';
	status := 'cancelled';
END $$;

-- Unpaid orders older than p_age expire: stock, holds and slips back; the status change
-- queues the customer's SMS (sql/003_sms.sql's trigger). At most p_limit per call; an order
-- busy right now waits for the next call. Returns how many expired.
CREATE FUNCTION spaza_orders_expire(p_age interval, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_n integer := 0;
BEGIN
	FOR v_id IN SELECT o.id FROM orders o WHERE o.status = 'awaiting_payment' AND o.created_at <= now() - p_age
			ORDER BY o.created_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM spaza__order_release(v_id);
		UPDATE orders o SET status = 'expired', expired_at = now(), updated_at = now() WHERE o.id = v_id;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;

-- The orders' branch of the customer timeline (contracts rule 2).
CREATE VIEW timeline_orders AS
	SELECT h.customer_id, h.at,
	       CASE WHEN h.from_status IS NULL THEN 'order_placed' ELSE 'order_status' END AS kind,
	       h.order_id::text AS ref,
	       CASE WHEN h.from_status IS NULL
		    THEN format('order #%s placed: %s line(s), R%s', h.order_id,
				(SELECT count(*) FROM order_items i WHERE i.order_id = h.order_id),
				to_char(o.total_cents / 100.0, 'FM999999999990.00'))
		    ELSE format('order #%s %s -> %s', h.order_id, h.from_status, h.status) END AS summary
	FROM order_status_history h JOIN orders o ON o.id = h.order_id;

ALTER FUNCTION spaza__order_placed SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_status_changed SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_total_check SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_lines_back SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_release SET search_path = public, pg_temp;
ALTER FUNCTION spaza_basket_checkout SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_order_cancel_unpaid SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_orders_expire SECURITY DEFINER SET search_path = public, pg_temp;
GRANT EXECUTE ON FUNCTION spaza_basket_checkout, spaza_order_cancel_unpaid, spaza_orders_expire TO spaza_app;
-- The single-product create inserts orders directly: its triggers write these as spaza_app.
GRANT SELECT, INSERT ON order_items, order_status_history TO spaza_app;
GRANT USAGE ON SEQUENCE order_status_history_id_seq TO spaza_app;
GRANT SELECT ON timeline_orders TO spaza_app;
