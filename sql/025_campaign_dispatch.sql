-- The campaign sender's statement, campaign by campaign (doc/benchmark.md, "A campaign draining").
--
-- spazad's token bucket calls spaza_campaign_dispatch() once a second. sql/015_crm.sql found the
-- next recipients with one join of campaign_recipients to campaigns, in (campaign, customer)
-- order through the pending index, filtering the running campaigns as it went. While a campaign
-- with many recipients left is paused (or started with an --at still to come), no pending row
-- passes that filter, and the join read the whole index to find none: 0.2-1.1 s of PostgreSQL
-- every second for a million recipients, on the connection the outbox and the timeline write on.
-- The check that a running campaign is done read campaign_recipients from its start up to the
-- first pending row, further at every tick as the campaign drains. Here each running, due
-- campaign is read on its own, in its part of the pending index, which stops after the rows
-- asked for; and a campaign is checked for being done only when it gave fewer rows than asked.
-- Same order (campaign, then customer), same decisions, same results.
CREATE OR REPLACE FUNCTION spaza_campaign_dispatch(p_n integer, p_cap integer, p_days integer, p_footer_en text,
	p_footer_zu text, p_footer_af text, OUT queued integer, OUT opted_out integer, OUT capped integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	k record;	-- (not a campaigns variable: that type would be looked up when this is created, by
			-- whatever search_path the migration runs with, not by the function's own)
	v record;
	v_left integer := p_n;
	v_got integer;
	v_sent integer;
	v_sms bigint;
	v_opt_out boolean;
	v_lang text;
BEGIN
	queued := 0; opted_out := 0; capped := 0;
	FOR k IN SELECT c.id, c AS camp FROM campaigns c WHERE c.state = 'running' AND c.start_at <= now() ORDER BY c.id LOOP
		EXIT WHEN v_left <= 0;
		v_got := 0;
		-- the customer is read row by row: joined here, the planner merges the pending index with
		-- customers' primary key from its first row, reading every customer before the first
		-- one still pending (0.2 s halfway through a million)
		FOR v IN SELECT cr.customer_id FROM campaign_recipients cr
			WHERE cr.campaign_id = k.id AND cr.state = 'pending'
			ORDER BY cr.customer_id LIMIT v_left FOR UPDATE SKIP LOCKED
		LOOP
			v_got := v_got + 1;
			SELECT c.opt_out, c.lang INTO v_opt_out, v_lang FROM customers c WHERE c.id = v.customer_id;
			IF v_opt_out THEN
				UPDATE campaign_recipients SET state = 'opted_out', decided_at = now()
				WHERE campaign_id = k.id AND customer_id = v.customer_id;
				opted_out := opted_out + 1;
				CONTINUE;
			END IF;
			SELECT count(*) INTO v_sent FROM sms_messages m WHERE m.customer_id = v.customer_id
				AND m.kind = 'marketing' AND m.status IN ('queued', 'sent', 'delivered')
				AND m.created_at > now() - make_interval(days => p_days);
			IF v_sent >= p_cap THEN
				UPDATE campaign_recipients SET state = 'capped', decided_at = now()
				WHERE campaign_id = k.id AND customer_id = v.customer_id;
				capped := capped + 1;
				CONTINUE;
			END IF;
			INSERT INTO sms_messages (customer_id, direction, kind, text, status)
			VALUES (v.customer_id, 'out', 'marketing', spaza__campaign_text(k.camp, v_lang,
				CASE v_lang WHEN 'zu' THEN p_footer_zu WHEN 'af' THEN p_footer_af ELSE p_footer_en END), 'queued')
			RETURNING id INTO v_sms;
			UPDATE campaign_recipients SET state = 'queued', sms_id = v_sms, decided_at = now()
			WHERE campaign_id = k.id AND customer_id = v.customer_id;
			queued := queued + 1;
		END LOOP;
		v_left := v_left - v_got;
		-- fewer than asked: perhaps nobody is left to decide, and a running campaign with nobody
		-- left is done (rows another transaction holds are still pending: not done yet)
		IF v_left > 0 AND NOT EXISTS (SELECT 1 FROM campaign_recipients cr
			WHERE cr.campaign_id = k.id AND cr.state = 'pending') THEN
			UPDATE campaigns SET state = 'done' WHERE id = k.id AND state = 'running';
		END IF;
	END LOOP;
END $$;
