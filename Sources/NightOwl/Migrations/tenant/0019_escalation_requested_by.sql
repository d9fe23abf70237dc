-- Who asked for the next tier now (the Escalate button, an SMS "ESC", a keypress), so that the thread note of that
-- step can say so; cleared when the step is taken.
ALTER TABLE escalation_state ADD COLUMN requested_by text;
