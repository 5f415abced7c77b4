-- Spaza schema, step 29: a dialogue's row may be written twice, so its id is no longer unique.
--
-- A new dialogue's row is written on spazad's lazy connection (src/engine/session_fsm.c), and
-- again on the customer's own connection when the dialogue orders or pays before that first
-- row committed (sql/009 says why the row must be there by then). With the id unique, the two
-- INSERTs of one id on two connections wait for each other's transaction: the customer's batch
-- stood behind the lazy one, and two batches that each held the other's id deadlocked (seen
-- under the benchmark: one second each). A second row with the same id changes nothing for
-- the one reader, DIALOGUE_FIND (the newest row of a channel, session id and phone).
ALTER TABLE ussd_dialogues DROP CONSTRAINT ussd_dialogues_pkey;
