ALTER TABLE "articles" ADD COLUMN "sim_band0" integer;--> statement-breakpoint
ALTER TABLE "articles" ADD COLUMN "sim_band1" integer;--> statement-breakpoint
ALTER TABLE "articles" ADD COLUMN "sim_band2" integer;--> statement-breakpoint
ALTER TABLE "articles" ADD COLUMN "sim_band3" integer;--> statement-breakpoint
CREATE INDEX "articles_sim_band0_idx" ON "articles" USING btree ("sim_band0");--> statement-breakpoint
CREATE INDEX "articles_sim_band1_idx" ON "articles" USING btree ("sim_band1");--> statement-breakpoint
CREATE INDEX "articles_sim_band2_idx" ON "articles" USING btree ("sim_band2");--> statement-breakpoint
CREATE INDEX "articles_sim_band3_idx" ON "articles" USING btree ("sim_band3");