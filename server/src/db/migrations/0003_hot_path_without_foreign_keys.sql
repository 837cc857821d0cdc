ALTER TABLE "deductions" DROP CONSTRAINT "deductions_school_id_schools_id_fk";
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_payer_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "deductions" DROP CONSTRAINT "deductions_agreement_id_withholding_agreements_id_fk";
--> statement-breakpoint
ALTER TABLE "gateway_nonces" DROP CONSTRAINT "gateway_nonces_client_id_gateway_clients_id_fk";
