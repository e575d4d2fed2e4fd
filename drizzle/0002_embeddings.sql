ALTER TABLE "articles" ADD COLUMN "embedding" jsonb;--> statement-breakpoint
ALTER TABLE "stories" ADD COLUMN "embedding" jsonb;