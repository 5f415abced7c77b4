-- Spaza schema, step 32: a ledger transaction that is no money event fires no trigger.
--
-- spaza__money_event (sql/012, sql/021) ran at the commit of every ledger transaction and looked
-- up its customer before it looked at its reason: for a transaction of no order, through its
-- entries' accounts. Every loyalty posting of the points sweep (sql/028) is such a transaction,
-- and its reason makes no money event; the lookup's generic plan (a hash join over every
-- customer's account) took 0.25 ms of the sweep's work per paid order (doc/benchmark.md). The
-- trigger now fires only for the reasons the function turns into an event.
DROP TRIGGER ledger_txns_money_event ON ledger_txns;
CREATE CONSTRAINT TRIGGER ledger_txns_money_event AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (spaza__is_payment(NEW.reason) OR NEW.reason IN ('refund', 'reversal', 'credit_repayment'))
	EXECUTE FUNCTION spaza__money_event();
