ALTER TABLE "sensitive"."vault_values" DROP CONSTRAINT "vault_values_owner_type_check";--> statement-breakpoint
ALTER TABLE "staff_members" ADD COLUMN "contact_ref" uuid;--> statement-breakpoint
ALTER TABLE "sensitive"."vault_values" ADD CONSTRAINT "vault_values_owner_type_check" CHECK (owner_type in ('trip', 'passenger', 'preregistration', 'staff'));