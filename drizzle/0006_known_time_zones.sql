-- A subscriber's time zone is used by PostgreSQL itself (the planner computes every local date
-- and delivery time in SQL), so it must be a zone this database knows: one row with a name that
-- Node's Intl accepted but PostgreSQL did not (e.g. "US/Pacific-New") failed every plan, for
-- every subscriber. The API stores Intl's canonical names; this makes the database refuse the rest.
CREATE OR REPLACE FUNCTION daybreak_known_time_zone(zone text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- Offsets ("+05:30") and POSIX rules are not zones: PostgreSQL reads their sign inverted.
  IF zone IS NULL OR zone !~ '^[A-Za-z][A-Za-z0-9_+/-]*$' THEN
    RETURN false;
  END IF;
  PERFORM now() AT TIME ZONE zone;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END;
$$;
--> statement-breakpoint
-- Rows stored before this check: a zone the database cannot use becomes UTC (it planned nothing).
UPDATE "subscribers" SET "timezone" = 'UTC' WHERE NOT daybreak_known_time_zone("timezone");
--> statement-breakpoint
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_timezone_known" CHECK (daybreak_known_time_zone("timezone"));
