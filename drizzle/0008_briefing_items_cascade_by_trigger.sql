ALTER TABLE "briefing_items" DROP CONSTRAINT "briefing_items_briefing_id_briefings_id_fk";
--> statement-breakpoint
CREATE FUNCTION "briefings_delete_items"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "briefing_items" WHERE "briefing_id" IN (SELECT "id" FROM gone);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "briefings_delete_items" AFTER DELETE ON "briefings"
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION "briefings_delete_items"();
