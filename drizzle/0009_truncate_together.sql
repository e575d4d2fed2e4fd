-- TRUNCATE briefings, briefing_items (both in one statement, as an operator or a script clearing a
-- day does) failed: the trigger's own TRUNCATE of briefing_items met the table the statement was
-- truncating ("being used by active queries"). AFTER TRUNCATE triggers run once every named
-- table is emptied, so items truncated in the same statement are already gone: skip them then.
CREATE OR REPLACE FUNCTION "briefings_truncate_items"() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "briefing_items") THEN
    TRUNCATE "briefing_items";
  END IF;
  RETURN NULL;
END $$;
