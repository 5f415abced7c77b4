-- Spaza schema, step 1: customers, catalogue, orders, the USSD session timeline.
-- Money is integer cents everywhere.

CREATE TABLE customers (
	id          bigserial PRIMARY KEY,
	msisdn      text NOT NULL UNIQUE CHECK (msisdn ~ '^\+[1-9][0-9]{6,14}$'),
	lang        text NOT NULL DEFAULT 'en',
	created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
	id          integer PRIMARY KEY,
	name        text NOT NULL,
	position    integer NOT NULL
);

CREATE TABLE products (
	id          integer PRIMARY KEY,
	category_id integer NOT NULL REFERENCES categories(id),
	position    integer NOT NULL,
	name        text NOT NULL,
	price_cents bigint NOT NULL CHECK (price_cents > 0),
	stock       bigint NOT NULL CHECK (stock >= 0),
	active      boolean NOT NULL DEFAULT true,
	UNIQUE (category_id, position)
);

-- Order numbers are short and human-typable: a plain sequence from 1001.
CREATE SEQUENCE order_no START 1001;

CREATE TABLE orders (
	id          bigint PRIMARY KEY DEFAULT nextval('order_no'),
	customer_id bigint NOT NULL REFERENCES customers(id),
	product_id  integer NOT NULL REFERENCES products(id),
	qty         integer NOT NULL CHECK (qty > 0),
	unit_cents  bigint NOT NULL CHECK (unit_cents > 0),
	total_cents bigint NOT NULL CHECK (total_cents = unit_cents * qty),
	status      text NOT NULL DEFAULT 'awaiting_payment'
	            CHECK (status IN ('awaiting_payment', 'paid', 'shipped', 'delivered', 'cancelled')),
	-- channel + session + hop that created it: a replayed hop never creates a second order
	idem_key    text NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_customer ON orders (customer_id, id DESC);

-- One row per USSD session (the customer's timeline), written when the session ends.
CREATE TABLE ussd_sessions (
	id           bigserial PRIMARY KEY,
	customer_id  bigint NOT NULL REFERENCES customers(id),
	channel      text NOT NULL,
	session_ref  text NOT NULL,
	service_code text NOT NULL,
	started_at   timestamptz NOT NULL,
	ended_at     timestamptz NOT NULL,
	outcome      text NOT NULL CHECK (outcome IN ('completed', 'abandoned', 'timeout', 'error')),
	hops         integer NOT NULL,
	screens      text NOT NULL,
	order_id     bigint REFERENCES orders(id),
	-- networks recycle session ids (its_session_info is two octets): unique with the start time
	UNIQUE (channel, session_ref, started_at)
);
CREATE INDEX ussd_sessions_by_customer ON ussd_sessions (customer_id, started_at DESC);
