CREATE TABLE "sensitive"."data_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"state" text NOT NULL,
	"master_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "data_keys_purpose_check" CHECK (purpose in ('stable', 'vault')),
	CONSTRAINT "data_keys_state_check" CHECK (state in ('current', 'retiring', 'retired'))
);
--> statement-breakpoint
CREATE TABLE "sensitive"."key_wraps" (
	"key_id" text NOT NULL,
	"master_id" text NOT NULL,
	"wrapped" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "key_wraps_key_id_master_id_pk" PRIMARY KEY("key_id","master_id")
);
--> statement-breakpoint
ALTER TABLE "sensitive"."key_wraps" ADD CONSTRAINT "key_wraps_key_id_data_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "sensitive"."data_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "data_keys_one_current_key" ON "sensitive"."data_keys" USING btree ("purpose") WHERE state = 'current';