ALTER TABLE "subscribers" ADD COLUMN "profile_embedding" jsonb;--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "profile_embedding_text" text;