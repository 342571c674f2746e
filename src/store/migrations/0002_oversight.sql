CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trip_id" uuid NOT NULL,
	"city" text,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notified_at" timestamp with time zone,
	CONSTRAINT "alerts_kind_check" CHECK (kind in ('over_capacity', 'duplicate_trip', 'missing_at_departure', 'watchlist'))
);
--> statement-breakpoint
CREATE TABLE "trip_contacts" (
	"trip_id" uuid PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"openid_ref" uuid,
	"locale" text DEFAULT 'zh-CN' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "watchlist" (
	"id_blind" text PRIMARY KEY NOT NULL,
	"added_by" text NOT NULL,
	"city" text,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sensitive"."vault_values" DROP CONSTRAINT "vault_values_kind_check";--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_trip_id_trips_id_fk" FOREIGN KEY ("trip_id") REFERENCES "public"."trips"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trip_contacts" ADD CONSTRAINT "trip_contacts_trip_id_trips_id_fk" FOREIGN KEY ("trip_id") REFERENCES "public"."trips"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_trip_kind_subject_key" ON "alerts" USING btree ("trip_id","kind","subject");--> statement-breakpoint
CREATE INDEX "alerts_city_created_at_idx" ON "alerts" USING btree ("city","created_at");--> statement-breakpoint
ALTER TABLE "sensitive"."vault_values" ADD CONSTRAINT "vault_values_kind_check" CHECK (kind in ('name', 'phone', 'id_number', 'address', 'openid'));