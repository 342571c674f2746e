CREATE TABLE "city_recipients" (
	"city" text PRIMARY KEY NOT NULL,
	"emails" text[] DEFAULT '{}'::text[] NOT NULL,
	"attach" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "report_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"city" text NOT NULL,
	"date" date NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"file_path" text,
	"file_size" bigint,
	"file_sha256" text,
	"counts" jsonb,
	"lease_holder" text,
	"lease_until" timestamp with time zone,
	"message_id" text,
	"recipients_count" integer,
	"wechat" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "report_runs_status_check" CHECK (status in ('pending', 'built', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "report_runs_city_date_key" ON "report_runs" USING btree ("city","date");--> statement-breakpoint
CREATE INDEX "report_runs_date_idx" ON "report_runs" USING btree ("date");