-- A reply promised on a USSD screen ("we'll SMS you the result") is queued under the key of
-- the hop that promised it (channel 'ussd', mo_id = that key). spazad writes it again while the
-- database is away; a write that committed but whose answer was lost with the connection must
-- not become a second SMS.
CREATE UNIQUE INDEX sms_messages_promise ON sms_messages (channel, mo_id) WHERE direction = 'out';
