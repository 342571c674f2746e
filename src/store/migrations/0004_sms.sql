CREATE TABLE "sms_messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"phone_ref" uuid,
	"phone_blind" text NOT NULL,
	"kind" text NOT NULL,
	"template_code" text NOT NULL,
	"locale" text DEFAULT 'zh-CN' NOT NULL,
	"params_sealed" "bytea",
	"key_id" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"biz_id" text,
	"out_id" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error_code" text,
	"trip_id" uuid,
	"conversation_ref" text,
	"invited_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "sms_messages_status_check" CHECK (status in ('queued', 'sending', 'sent', 'uncertain', 'delivered', 'failed', 'superseded'))
);
--> statement-breakpoint
CREATE TABLE "sms_uplinks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"content_key" text NOT NULL,
	"phone_blind" text NOT NULL,
	"phone_sealed" "bytea",
	"content_sealed" "bytea",
	"key_id" text NOT NULL,
	"sent_at" timestamp with time zone,
	"status" text DEFAULT 'pending' NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "sms_uplinks_status_check" CHECK (status in ('pending', 'done', 'stale', 'ignored', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_trip_id_trips_id_fk" FOREIGN KEY ("trip_id") REFERENCES "public"."trips"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sms_messages_phone_blind_created_at_idx" ON "sms_messages" USING btree ("phone_blind","created_at");--> statement-breakpoint
CREATE INDEX "sms_messages_biz_id_idx" ON "sms_messages" USING btree ("biz_id");--> statement-breakpoint
CREATE INDEX "sms_messages_trip_id_idx" ON "sms_messages" USING btree ("trip_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_uplinks_dedupe_key_key" ON "sms_uplinks" USING btree ("dedupe_key");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_uplinks_content_key_key" ON "sms_uplinks" USING btree ("content_key");--> statement-breakpoint
CREATE INDEX "sms_uplinks_phone_blind_sent_at_idx" ON "sms_uplinks" USING btree ("phone_blind","sent_at");--> statement-breakpoint
CREATE INDEX "sms_uplinks_status_received_at_idx" ON "sms_uplinks" USING btree ("status","received_at");