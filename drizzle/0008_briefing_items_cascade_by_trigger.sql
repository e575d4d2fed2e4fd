ALTER TABLE "briefing_items" DROP CONSTRAINT "briefing_items_briefing_id_briefings_id_fk";
--> statement-breakpoint
CREATE FUNCTION "briefings_delete_items"() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM "briefing_items" WHERE "briefing_id" IN (SELECT "id" FROM gone);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "briefings_delete_items" AFTER DELETE ON "briefings"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION "briefings_delete_items"();
--> statement-breakpoint
CREATE FUNCTION "briefings_truncate_items"() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  TRUNCATE "briefing_items";
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "briefings_truncate_items" AFTER TRUNCATE ON "briefings"
  FOR EACH STATEMENT EXECUTE FUNCTION "briefings_truncate_items"();
