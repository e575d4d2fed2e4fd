ALTER TABLE "briefing_items" DROP CONSTRAINT "briefing_items_story_id_stories_id_fk";
--> statement-breakpoint
ALTER TABLE "briefing_items" DROP CONSTRAINT "briefing_items_summary_id_story_summaries_id_fk";
