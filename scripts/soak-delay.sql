-- A slow database on demand, for fault tests only (scripts/soak, tests/integration/fault_*.sh): never
-- in a shop's database. Each of the next `armed` orders INSERTs (of phone `msisdn`, or of anyone
-- when NULL) sleeps `delay_ms` inside its transaction:
--   UPDATE soak_delay SET armed = 1, delay_ms = 3000, msisdn = NULL;
CREATE TABLE soak_delay (one boolean PRIMARY KEY DEFAULT true CHECK (one), armed integer NOT NULL,
                         delay_ms integer NOT NULL, msisdn text);
INSERT INTO soak_delay VALUES (true, 0, 0, NULL);
-- It runs as its owner: spazad's role (spaza_app) has no rights on soak_delay.
CREATE FUNCTION soak_delay_order() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE d integer;
BEGIN
	UPDATE soak_delay s SET armed = s.armed - 1 WHERE s.armed > 0 AND (s.msisdn IS NULL OR s.msisdn =
		(SELECT c.msisdn FROM customers c WHERE c.id = NEW.customer_id)) RETURNING s.delay_ms INTO d;
	IF d > 0 THEN PERFORM pg_sleep(d / 1000.0); END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER soak_delay_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION soak_delay_order();
