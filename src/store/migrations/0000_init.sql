CREATE SCHEMA "sensitive";
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key_prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"role" text NOT NULL,
	"city" text,
	"station" text,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_role_check" CHECK (role in ('station', 'authority', 'health', 'ticketing', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject" text,
	"reason" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "enrollment_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"city" text,
	"station" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by" text,
	CONSTRAINT "enrollment_codes_role_check" CHECK (role in ('crew', 'station', 'authority', 'health', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "sensitive"."key_check" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"key_id" text NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "key_check_single_row" CHECK (id = 1)
);
--> statement-breakpoint
CREATE TABLE "passengers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trip_id" uuid NOT NULL,
	"name_ref" uuid,
	"id_type" smallint NOT NULL,
	"id_number_ref" uuid,
	"id_blind" text,
	"phone_ref" uuid,
	"phone_blind" text,
	"addr_before_ref" uuid,
	"addr_beijing_ref" uuid,
	"channel" text NOT NULL,
	"registered_by" text NOT NULL,
	"staff_id" uuid,
	"user_key" text,
	"arrived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"purged_at" timestamp with time zone,
	CONSTRAINT "passengers_id_type_check" CHECK (id_type between 1 and 7),
	CONSTRAINT "passengers_channel_check" CHECK (channel in ('wechat', 'sms', 'wechaty', 'simulator', 'api')),
	CONSTRAINT "passengers_registered_by_check" CHECK (registered_by in ('self', 'crew', 'ticketing'))
);
--> statement-breakpoint
CREATE TABLE "preregistrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ticket_id" text NOT NULL,
	"trip_number" text NOT NULL,
	"departure_date" date NOT NULL,
	"origin_text" text,
	"name_ref" uuid,
	"id_type" smallint NOT NULL,
	"id_number_ref" uuid,
	"id_blind" text,
	"phone_ref" uuid,
	"phone_blind" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_passenger_id" uuid,
	"purged_at" timestamp with time zone,
	CONSTRAINT "preregistrations_id_type_check" CHECK (id_type between 1 and 7)
);
--> statement-breakpoint
CREATE TABLE "staff_members" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_key" text NOT NULL,
	"channel" text NOT NULL,
	"role" text NOT NULL,
	"city" text,
	"station" text,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "staff_members_role_check" CHECK (role in ('crew', 'station', 'authority', 'health', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "trips" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" char(6) NOT NULL,
	"plate" text NOT NULL,
	"plate_city" text,
	"declared_count" smallint NOT NULL,
	"driver_name_ref" uuid,
	"driver_phone_ref" uuid,
	"registrant_is_driver" boolean NOT NULL,
	"registrant_name_ref" uuid,
	"registrant_phone_ref" uuid,
	"crew_name_ref" uuid,
	"crew_phone_ref" uuid,
	"crew_id_type" smallint,
	"crew_id_ref" uuid,
	"trip_number" text,
	"departure_at" timestamp with time zone NOT NULL,
	"origin_text" text NOT NULL,
	"origin_city" text,
	"destination_text" text NOT NULL,
	"destination_city" text,
	"beijing_bound" boolean DEFAULT false NOT NULL,
	"reporting_city" text,
	"status" text DEFAULT 'open' NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"qr_ticket" text,
	"qr_url" text,
	"qr_expires_at" timestamp with time zone,
	"purged_at" timestamp with time zone,
	CONSTRAINT "trips_status_check" CHECK (status in ('open', 'departed', 'closed')),
	CONSTRAINT "trips_declared_count_check" CHECK (declared_count between 1 and 999),
	CONSTRAINT "trips_code_check" CHECK (code ~ '^[0-9]{6}$')
);
--> statement-breakpoint
CREATE TABLE "sensitive"."vault_values" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"key_id" text NOT NULL,
	"owner_type" text NOT NULL,
	"owner_id" uuid,
	"purge_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vault_values_kind_check" CHECK (kind in ('name', 'phone', 'id_number', 'address')),
	CONSTRAINT "vault_values_owner_type_check" CHECK (owner_type in ('trip', 'passenger', 'preregistration'))
);
--> statement-breakpoint
ALTER TABLE "passengers" ADD CONSTRAINT "passengers_trip_id_trips_id_fk" FOREIGN KEY ("trip_id") REFERENCES "public"."trips"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "passengers" ADD CONSTRAINT "passengers_staff_id_staff_members_id_fk" FOREIGN KEY ("staff_id") REFERENCES "public"."staff_members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "preregistrations" ADD CONSTRAINT "preregistrations_claimed_passenger_id_passengers_id_fk" FOREIGN KEY ("claimed_passenger_id") REFERENCES "public"."passengers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_key_prefix_idx" ON "api_keys" USING btree ("key_prefix");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_at_idx" ON "audit_log" USING btree ("actor","at");--> statement-breakpoint
CREATE UNIQUE INDEX "passengers_trip_id_id_blind_key" ON "passengers" USING btree ("trip_id","id_blind");--> statement-breakpoint
CREATE INDEX "passengers_user_key_created_at_idx" ON "passengers" USING btree ("user_key","created_at");--> statement-breakpoint
CREATE INDEX "passengers_id_blind_idx" ON "passengers" USING btree ("id_blind");--> statement-breakpoint
CREATE INDEX "passengers_phone_blind_idx" ON "passengers" USING btree ("phone_blind");--> statement-breakpoint
CREATE UNIQUE INDEX "preregistrations_ticket_id_key" ON "preregistrations" USING btree ("ticket_id");--> statement-breakpoint
CREATE INDEX "preregistrations_trip_number_departure_date_idx" ON "preregistrations" USING btree ("trip_number","departure_date");--> statement-breakpoint
CREATE INDEX "preregistrations_id_blind_idx" ON "preregistrations" USING btree ("id_blind");--> statement-breakpoint
CREATE INDEX "preregistrations_phone_blind_idx" ON "preregistrations" USING btree ("phone_blind");--> statement-breakpoint
CREATE UNIQUE INDEX "staff_members_user_key_key" ON "staff_members" USING btree ("user_key");--> statement-breakpoint
CREATE UNIQUE INDEX "trips_code_key" ON "trips" USING btree ("code");--> statement-breakpoint
CREATE INDEX "trips_plate_created_at_idx" ON "trips" USING btree ("plate","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "trips_reporting_city_departure_at_idx" ON "trips" USING btree ("reporting_city","departure_at");--> statement-breakpoint
CREATE INDEX "trips_trip_number_departure_at_idx" ON "trips" USING btree ("trip_number","departure_at");--> statement-breakpoint
CREATE INDEX "vault_values_owner_idx" ON "sensitive"."vault_values" USING btree ("owner_type","owner_id");--> statement-breakpoint
CREATE INDEX "vault_values_purge_after_idx" ON "sensitive"."vault_values" USING btree ("purge_after");