-- spaza__account() found an account with `owner_id IS NOT DISTINCT FROM p_owner`, which no index
-- serves: every call scanned ledger_accounts, which holds one account per voucher and per credit
-- line. Issuing 100,000 vouchers took minutes (quadratic), and every voucher payment and credit
-- hold scanned the whole table. An equality (or IS NULL) on owner_id uses the unique index.
CREATE OR REPLACE FUNCTION spaza__account(p_kind text, p_owner bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
BEGIN
	IF p_owner IS NULL THEN
		SELECT a.id INTO v_id FROM ledger_accounts a WHERE a.kind = p_kind AND a.owner_id IS NULL;
	ELSE
		SELECT a.id INTO v_id FROM ledger_accounts a WHERE a.kind = p_kind AND a.owner_id = p_owner;
	END IF;
	IF v_id IS NULL THEN
		INSERT INTO ledger_accounts (kind, owner_id) VALUES (p_kind, p_owner)
			ON CONFLICT (kind, owner_id) DO NOTHING RETURNING id INTO v_id;
		IF v_id IS NULL THEN	-- a concurrent call created it first
			SELECT a.id INTO v_id FROM ledger_accounts a
				WHERE a.kind = p_kind AND a.owner_id IS NOT DISTINCT FROM p_owner;
		END IF;
	END IF;
	RETURN v_id;
END $$;
