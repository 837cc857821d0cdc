import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { DECLINE_REASONS } from '../../../shared/gateway-api.js';

/**
 * The data model of DESIGN §5. Money columns are integer fen with a check that they are positive;
 * statuses are checked against their state machines' states; every row that belongs to a school carries
 * `school_id` (the tenant key). Columns ending in `_enc` hold AES-256-GCM ciphertext (lib/crypto.ts) and
 * `_hash` columns a keyed hash for matching; personal data is never stored in clear.
 */

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const tstz = (name: string) => timestamp(name, { withTimezone: true });

/** `col in ('A','B')` for status checks. */
const oneOf = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);

/**
 * DESIGN §7.0: PENDING (created by the operator, not yet authorized and connected) → ACTIVE (money moves)
 * ⇄ SUSPENDED (the operator suspended it, or the school's Alipay authorization was cancelled or stopped
 * working: no new money; money already in flight completes).
 */
export const SCHOOL_STATUSES = ['PENDING', 'ACTIVE', 'SUSPENDED'] as const;
/** Why a school is SUSPENDED; the authorization reasons clear themselves when the school authorizes again. */
export const SUSPENSION_REASONS = ['OPERATOR', 'AUTHORIZATION_CANCELLED', 'AUTHORIZATION_INVALID'] as const;
/**
 * When a parent's binding waits for the card holder's approval (domain/cards/approval.ts): ADULTS — when the
 * holder is of age or their age is unknown (default); ALWAYS; NEVER (K-12 schools, where parents act alone).
 */
export const PARENT_APPROVAL_RULES = ['ADULTS', 'ALWAYS', 'NEVER'] as const;
/** DESIGN §7.4 default: 1m, 5m, 30m, 2h, 6h, 24h, then daily for 7 days. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [
  60, 300, 1800, 7200, 21600, 86400, 86400, 86400, 86400, 86400, 86400, 86400, 86400,
];

export const schools = pgTable(
  'schools',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    status: text('status', { enum: SCHOOL_STATUSES }).notNull().default('PENDING'),
    suspensionReason: text('suspension_reason', { enum: SUSPENSION_REASONS }),
    /** What the operator typed, or what Alipay said: shown to the operator and the school's admins. */
    suspensionDetail: text('suspension_detail'),
    suspendedAt: tstz('suspended_at'),
    activatedAt: tstz('activated_at'),
    /** The school's hotline for students and parents, shown in the mini-program; not personal data. */
    servicePhone: text('service_phone'),
    /**
     * The app_auth_token in use, copied from the school's ACTIVE isv_authorizations row in the same
     * transaction that writes it: every Alipay call for the school reads the school row (cached per
     * process), so the hot paths need no second lookup.
     */
    alipayAppAuthTokenEnc: text('alipay_app_auth_token_enc'),
    alipayAuthAppId: text('alipay_auth_app_id'),
    alipaySellerId: text('alipay_seller_id'),
    /** Null until the operator connects the card system (npm run operator -- school connect-cardsys). */
    cardsysEndpoint: text('cardsys_endpoint'),
    cardsysUsername: text('cardsys_username'),
    cardsysPasswordEnc: text('cardsys_password_enc'),
    /** When the stored card-system settings last answered a GetPersonInfo test. */
    cardsysVerifiedAt: tstz('cardsys_verified_at'),
    rechargeMinFen: integer('recharge_min_fen').notNull().default(100),
    rechargeMaxFen: integer('recharge_max_fen').notNull().default(100_000),
    withholdingEnabled: boolean('withholding_enabled').notNull().default(true),
    txnLimitFen: integer('txn_limit_fen').notNull().default(5_000),
    dailyLimitFen: integer('daily_limit_fen').notNull().default(20_000),
    /**
     * The school's id in Alipay's campus products (学校内标, 2088 + 12 digits), given when Alipay onboards the
     * school for the campus code; the mini-program opens the Alipay campus code with it (ALIPAY-M2.md §5).
     */
    alipayInstitutionCode: text('alipay_institution_code'),
    /** Campus codes (seed 001 §4): refused (EXPIRED) when made more than this many days before upload. */
    campusCodeWindowDays: integer('campus_code_window_days').notNull().default(10),
    /** …and counted late when uploaded more than this many hours after they were made. */
    campusCodeLateAfterHours: integer('campus_code_late_after_hours').notNull().default(24),
    /** The largest campus-code payment a device may upload. */
    campusCodeMaxFen: integer('campus_code_max_fen').notNull().default(20_000),
    retryScheduleSeconds: integer('retry_schedule_seconds')
      .array()
      .notNull()
      .default(sql.raw(`'{${DEFAULT_RETRY_SCHEDULE_SECONDS.join(',')}}'::integer[]`)),
    parentApproval: text('parent_approval', { enum: PARENT_APPROVAL_RULES }).notNull().default('ADULTS'),
    /** A POS swipe whose occurredAt is older than this (or further ahead than the next) is declined. */
    swipeMaxAgeMinutes: integer('swipe_max_age_minutes').notNull().default(1440),
    swipeMaxAheadMinutes: integer('swipe_max_ahead_minutes').notNull().default(5),
    /** Terminal orders (DESIGN §7.6): a paid order without a dispense report after this long is shown to admins. */
    terminalDispenseWindowMinutes: integer('terminal_dispense_window_minutes').notNull().default(10),
    /**
     * Seed 002 §1: a payer the school does not know (no phone shared, no card bound here) shares their
     * Alipay mobile before paying a terminal order in the mini-program.
     */
    terminalPayRequiresPhone: boolean('terminal_pay_requires_phone').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('schools_code_key').on(t.code),
    check('schools_parent_approval_valid', oneOf('parent_approval', PARENT_APPROVAL_RULES)),
    check(
      'schools_swipe_window_valid',
      sql`${t.swipeMaxAgeMinutes} between 1 and 43200 and ${t.swipeMaxAheadMinutes} between 0 and 1440`,
    ),
    check('schools_code_format', sql`${t.code} ~ '^[0-9]{10}$'`),
    check('schools_status_valid', oneOf('status', SCHOOL_STATUSES)),
    check(
      'schools_suspension_reason_valid',
      sql`(status = 'SUSPENDED') = (suspension_reason is not null) and (suspension_reason is null or ${oneOf('suspension_reason', SUSPENSION_REASONS)})`,
    ),
    // Money moves only for a school whose two sides are configured (DESIGN §7.0).
    check(
      'schools_active_is_connected',
      sql`status = 'PENDING' or (alipay_app_auth_token_enc is not null and cardsys_endpoint is not null)`,
    ),
    check(
      'schools_recharge_range',
      sql`${t.rechargeMinFen} > 0 and ${t.rechargeMaxFen} >= ${t.rechargeMinFen}`,
    ),
    check('schools_limits_positive', sql`${t.txnLimitFen} > 0 and ${t.dailyLimitFen} >= ${t.txnLimitFen}`),
    // Alipay takes a campus code for at most 10 days (seed 001 §4): a longer window would only accept
    // payments that can no longer be charged.
    check(
      'schools_alipay_institution_code_format',
      sql`${t.alipayInstitutionCode} is null or ${t.alipayInstitutionCode} ~ '^2088[0-9]{12}$'`,
    ),
    check('schools_terminal_dispense_window', sql`${t.terminalDispenseWindowMinutes} between 1 and 1440`),
    check(
      'schools_campus_code_window',
      sql`${t.campusCodeWindowDays} between 1 and 10 and ${t.campusCodeLateAfterHours} between 1 and 240 and ${t.campusCodeMaxFen} > 0`,
    ),
  ],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    alipayUserId: text('alipay_user_id'),
    alipayOpenId: text('alipay_open_id'),
    /**
     * The mobile Alipay shared with the user's consent (auth_user, seed 002 §1), asked for only where a
     * school's terminal orders require it: keyed hash + ciphertext (DataProtector), never in clear.
     */
    phoneHash: text('phone_hash'),
    phoneEnc: text('phone_enc'),
    phoneSharedAt: tstz('phone_shared_at'),
    lastLoginAt: tstz('last_login_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('users_alipay_user_id_key').on(t.alipayUserId),
    uniqueIndex('users_alipay_open_id_key').on(t.alipayOpenId),
    check('users_has_alipay_identity', sql`${t.alipayUserId} is not null or ${t.alipayOpenId} is not null`),
  ],
);

/**
 * Roles of a school's admins (DESIGN §7.0), from most to least: OWNER (everything, including settings and
 * admins), STAFF (operate: orders, retries, refunds), VIEWER (read only).
 */
export const ADMIN_ROLES = ['OWNER', 'STAFF', 'VIEWER'] as const;

export const schoolAdmins = pgTable(
  'school_admins',
  {
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ADMIN_ROLES }).notNull(),
    /** How the school calls this person ("张老师"), from the invitation; Alipay gives us no name. */
    displayName: text('display_name'),
    invitationId: uuid('invitation_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.schoolId, t.userId] }),
    check('school_admins_role_valid', oneOf('role', ADMIN_ROLES)),
    index('school_admins_user_idx').on(t.userId),
  ],
);

/** One-time codes that make an Alipay user an admin of a school (stored as a keyed hash only). */
export const adminInvitations = pgTable(
  'admin_invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    role: text('role', { enum: ADMIN_ROLES }).notNull(),
    displayName: text('display_name'),
    codeHash: text('code_hash').notNull(),
    /** Who made it: `operator:<name>` or `admin:<user id>` (audit_log has the details). */
    createdBy: text('created_by').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    redeemedBy: uuid('redeemed_by').references(() => users.id),
    redeemedAt: tstz('redeemed_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('admin_invitations_code_hash_key').on(t.codeHash),
    check('admin_invitations_role_valid', oneOf('role', ADMIN_ROLES)),
    check('admin_invitations_redeemed_together', sql`(redeemed_by is null) = (redeemed_at is null)`),
    index('admin_invitations_school_idx').on(t.schoolId, t.createdAt),
  ],
);

export const AUDIT_ACTOR_KINDS = ['ADMIN', 'OPERATOR', 'SYSTEM'] as const;

/**
 * Every change an admin, the operator or the platform itself makes to a school (DESIGN §7.0): one row per
 * action, written in the transaction of the change (domain/audit/audit.ts `recordAudit`). Append-only: a
 * trigger refuses UPDATE, DELETE and TRUNCATE (migration 0009_audit_log_append_only), so not even a bug can rewrite history.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: tstz('occurred_at').notNull().defaultNow(),
    schoolId: uuid('school_id').references(() => schools.id),
    actorKind: text('actor_kind', { enum: AUDIT_ACTOR_KINDS }).notNull(),
    /** ADMIN: the user id; OPERATOR: the operator's name; SYSTEM: the job or notification that acted. */
    actorId: text('actor_id').notNull(),
    /** `<thing>.<verb>`, e.g. `school.settings.update`, `admin.role.change`, `recharge.refund`. */
    action: text('action').notNull(),
    /** What was acted on, when it is not the school itself: a user id, an order number … */
    target: text('target'),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
  },
  (t) => [
    check('audit_log_actor_kind_valid', oneOf('actor_kind', AUDIT_ACTOR_KINDS)),
    index('audit_log_school_idx').on(t.schoolId, t.id),
    // An order's timeline shows the admins' actions on it (issue 13).
    index('audit_log_target_idx')
      .on(t.schoolId, t.target)
      .where(sql`target is not null`),
  ],
);

export const ISV_AUTHORIZATION_STATUSES = ['ACTIVE', 'REPLACED', 'CANCELLED', 'INVALID'] as const;

/**
 * A school's authorization of our ISV app (ALIPAY-M2.md §4, ALIPAY.md §4.13): the tokens (encrypted), who
 * authorized (the school's merchant PID and app id) and when they expire. One ACTIVE row per school; a
 * refresh or a new authorization REPLACES it, a cancellation in Alipay CANCELS it, a token Alipay calls
 * invalid makes it INVALID.
 */
export const isvAuthorizations = pgTable(
  'isv_authorizations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    status: text('status', { enum: ISV_AUTHORIZATION_STATUSES }).notNull().default('ACTIVE'),
    appAuthTokenEnc: text('app_auth_token_enc').notNull(),
    /** Keyed hash of the token: finds the authorization behind a call that Alipay refused. */
    appAuthTokenHash: text('app_auth_token_hash').notNull(),
    appRefreshTokenEnc: text('app_refresh_token_enc'),
    /** The school's own app id (auth_app_id) and merchant PID (user_id, our trades' seller_id). */
    authAppId: text('auth_app_id').notNull(),
    merchantUserId: text('merchant_user_id').notNull(),
    /** From expires_in / re_expires_in (documented as obsolete, but honoured: refreshed well before). */
    expiresAt: tstz('expires_at'),
    refreshExpiresAt: tstz('refresh_expires_at'),
    /** open_app_auth_notify's auth_time (ms): a notification older than what we hold changes nothing. */
    authTime: tstz('auth_time'),
    source: text('source').notNull(),
    endedAt: tstz('ended_at'),
    endedReason: text('ended_reason'),
    createdAt: createdAt(),
  },
  (t) => [
    check('isv_authorizations_status_valid', oneOf('status', ISV_AUTHORIZATION_STATUSES)),
    uniqueIndex('isv_authorizations_one_active_per_school')
      .on(t.schoolId)
      .where(sql`status = 'ACTIVE'`),
    index('isv_authorizations_token_hash_idx').on(t.appAuthTokenHash),
    index('isv_authorizations_auth_app_idx').on(t.authAppId),
    index('isv_authorizations_expiry_idx')
      .on(t.expiresAt)
      .where(sql`status = 'ACTIVE'`),
  ],
);

/**
 * The `state` of an authorization link (ALIPAY-M2.md §4): binds Alipay's redirect to one school, expires,
 * and is spent by the first callback that uses it, so a replayed redirect changes nothing.
 */
export const isvAuthorizationLinks = pgTable(
  'isv_authorization_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    stateHash: text('state_hash').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('isv_authorization_links_state_key').on(t.stateHash)],
);

/**
 * The school's student roster (seed 000 §2.1): imported by the school (issue #13, upsertRosterEntries) and
 * matched by binding (domain/cards/proof.ts). ID numbers and phones only as keyed hash + ciphertext; the
 * last six characters of the ID number get their own keyed hash, because schools commonly ask for only those.
 */
export const rosterEntries = pgTable(
  'roster_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    name: text('name').notNull(),
    studentNo: text('student_no'),
    cardNo: text('card_no').notNull(),
    idNumberHash: text('id_number_hash'),
    idNumberEnc: text('id_number_enc'),
    idTailHash: text('id_tail_hash'),
    phoneHash: text('phone_hash'),
    phoneEnc: text('phone_enc'),
    guardianPhoneHash: text('guardian_phone_hash'),
    guardianPhoneEnc: text('guardian_phone_enc'),
    isStudent: boolean('is_student').notNull().default(true),
    /** The student left the school (an import marked the row missing): no longer matched for binding. */
    leftAt: tstz('left_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('roster_entries_school_card_key').on(t.schoolId, t.cardNo),
    index('roster_entries_id_number_hash_idx').on(t.schoolId, t.idNumberHash),
    index('roster_entries_phone_hash_idx').on(t.schoolId, t.phoneHash),
    index('roster_entries_guardian_phone_hash_idx').on(t.schoolId, t.guardianPhoneHash),
  ],
);

export const BINDING_STATUSES = ['ACTIVE', 'LOST', 'UNBOUND'] as const;
export const BINDING_RELATIONS = ['SELF', 'PARENT'] as const;
/** How the user proved the card is theirs or their child's (domain/cards/proof.ts; README "Binding"). */
export const BINDING_PROOFS = [
  'ID_NUMBER',
  'PHONE',
  'GUARDIAN_PHONE',
  'STUDENT_NO',
  'ALIPAY_CERT',
  'ALIPAY_MOBILE',
  'ALIPAY_GUARDIAN_MOBILE',
] as const;
/** A parent's binding may wait for the holder's approval (schools.parent_approval). */
export const BINDING_APPROVALS = ['NOT_REQUIRED', 'PENDING', 'APPROVED'] as const;

export const bindings = pgTable(
  'bindings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    cardNo: text('card_no').notNull(),
    holderName: text('holder_name').notNull(),
    identity: text('identity'),
    /** The card system's student number of the holder (GetPersonInfo), to find the student's campus-code payments. */
    studentNo: text('student_no'),
    relation: text('relation', { enum: BINDING_RELATIONS }).notNull(),
    status: text('status', { enum: BINDING_STATUSES }).notNull().default('ACTIVE'),
    proof: text('proof', { enum: BINDING_PROOFS }),
    approval: text('approval', { enum: BINDING_APPROVALS }).notNull().default('NOT_REQUIRED'),
    approvedAt: tstz('approved_at'),
    /** The user wants a message when the card's balance falls below this (domain/messages/balance-watch.ts). */
    lowBalanceFen: integer('low_balance_fen'),
    /** Since when the balance has been below it (null: at or above), so that each fall is told once. */
    balanceLowSince: tstz('balance_low_since'),
    /** This binding's user pays the card's canteen swipes through withholding (one per card). */
    isWithholdingPayer: boolean('is_withholding_payer').notNull().default(false),
    /** ZFB_BindDoc password (seed 000 §2.2): random, needed again to unbind. */
    vendorBindPasswordEnc: text('vendor_bind_password_enc'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    unboundAt: tstz('unbound_at'),
  },
  (t) => [
    check('bindings_status_valid', oneOf('status', BINDING_STATUSES)),
    check('bindings_relation_valid', oneOf('relation', BINDING_RELATIONS)),
    check('bindings_proof_valid', sql`proof is null or ${oneOf('proof', BINDING_PROOFS)}`),
    check('bindings_approval_valid', oneOf('approval', BINDING_APPROVALS)),
    // The card's holder: at most one live binding says "this is my own card".
    uniqueIndex('bindings_one_holder_per_card')
      .on(t.schoolId, t.cardNo)
      .where(sql`relation = 'SELF' and status <> 'UNBOUND'`),
    index('bindings_card_idx').on(t.schoolId, t.cardNo),
    uniqueIndex('bindings_user_card_live_key')
      .on(t.userId, t.schoolId, t.cardNo)
      .where(sql`status <> 'UNBOUND'`),
    uniqueIndex('bindings_one_withholding_payer_per_card')
      .on(t.schoolId, t.cardNo)
      .where(sql`is_withholding_payer and status <> 'UNBOUND'`),
    index('bindings_user_idx').on(t.userId),
    index('bindings_student_idx')
      .on(t.schoolId, t.studentNo)
      .where(sql`status <> 'UNBOUND'`),
    index('bindings_school_active_idx')
      .on(t.schoolId)
      .where(sql`status = 'ACTIVE'`),
  ],
);

export const AGREEMENT_STATUSES = ['PENDING', 'ACTIVE', 'UNSIGNED', 'FAILED'] as const;

export const withholdingAgreements = pgTable(
  'withholding_agreements',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    externalAgreementNo: text('external_agreement_no').notNull(),
    agreementNo: text('agreement_no'),
    status: text('status', { enum: AGREEMENT_STATUSES }).notNull().default('PENDING'),
    personalProductCode: text('personal_product_code').notNull().default('GENERAL_WITHHOLDING_P'),
    signScene: text('sign_scene').notNull(),
    signedAt: tstz('signed_at'),
    validUntil: tstz('valid_until'),
    unsignedAt: tstz('unsigned_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('withholding_agreements_status_valid', oneOf('status', AGREEMENT_STATUSES)),
    uniqueIndex('withholding_agreements_external_no_key').on(t.externalAgreementNo),
    uniqueIndex('withholding_agreements_agreement_no_key').on(t.agreementNo),
    uniqueIndex('withholding_agreements_one_active_per_user')
      .on(t.userId, t.schoolId)
      .where(sql`status = 'ACTIVE'`),
    index('withholding_agreements_school_open_idx')
      .on(t.schoolId, t.status, t.createdAt)
      .where(sql`status in ('ACTIVE', 'PENDING')`),
  ],
);

/**
 * The cards one payer's agreement at a school covers (families: a parent pays several children's swipes with
 * one agreement), each with the payer's own limits under the school's. A row is live until `removed_at`.
 */
export const agreementCards = pgTable(
  'agreement_cards',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agreementId: uuid('agreement_id')
      .notNull()
      .references(() => withholdingAgreements.id),
    bindingId: uuid('binding_id')
      .notNull()
      .references(() => bindings.id),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    cardNo: text('card_no').notNull(),
    /** The payer's cap per swipe and per day for this card; null = the school's limit. */
    txnLimitFen: integer('txn_limit_fen'),
    dailyLimitFen: integer('daily_limit_fen'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    removedAt: tstz('removed_at'),
  },
  (t) => [
    uniqueIndex('agreement_cards_live_key')
      .on(t.agreementId, t.bindingId)
      .where(sql`removed_at is null`),
    index('agreement_cards_binding_idx')
      .on(t.bindingId)
      .where(sql`removed_at is null`),
    check(
      'agreement_cards_limits_positive',
      sql`(${t.txnLimitFen} is null or ${t.txnLimitFen} > 0) and (${t.dailyLimitFen} is null or ${t.dailyLimitFen} > 0)`,
    ),
  ],
);

export const RECHARGE_STATUSES = [
  'CREATED',
  'PAID',
  'CREDITED',
  'CREDIT_FAILED',
  'REFUNDED',
  'CLOSED',
] as const;

/**
 * Stored with fillfactor 70 (migration 0028, which drizzle's table options cannot say): room on each page for
 * the next versions of its orders, so that the crediting drainer's lease is a HOT update (issue 18 §2).
 */
export const rechargeOrders = pgTable(
  'recharge_orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    outTradeNo: text('out_trade_no').notNull(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    bindingId: uuid('binding_id')
      .notNull()
      .references(() => bindings.id),
    cardNo: text('card_no').notNull(),
    amountFen: integer('amount_fen').notNull(),
    status: text('status', { enum: RECHARGE_STATUSES }).notNull().default('CREATED'),
    alipayTradeNo: text('alipay_trade_no'),
    buyerId: text('buyer_id'),
    creditAttempts: integer('credit_attempts').notNull().default(0),
    /** When the next crediting attempt is due; the sweep re-enqueues overdue ones (a lost job). */
    nextCreditAt: tstz('next_credit_at'),
    lastError: text('last_error'),
    /**
     * Set when a crediting attempt got no answer (the vendor may have credited): from then on every attempt
     * first looks our order number up in the vendor's records, and the order is never CREDIT_FAILED while
     * the vendor cannot be asked (domain/recharge/recharge.ts).
     */
    creditUnknownSince: tstz('credit_unknown_since'),
    expiresAt: tstz('expires_at').notNull(),
    paidAt: tstz('paid_at'),
    creditedAt: tstz('credited_at'),
    closedAt: tstz('closed_at'),
    refundedAt: tstz('refunded_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('recharge_orders_out_trade_no_key').on(t.outTradeNo),
    check('recharge_orders_amount_positive', sql`${t.amountFen} > 0`),
    check('recharge_orders_status_valid', oneOf('status', RECHARGE_STATUSES)),
    // Reconciliation: a school's recharges paid within a day.
    index('recharge_orders_school_paid_idx').on(t.schoolId, t.paidAt),
    // The few unfinished orders: by status for the sweep and the crediting drainers, by status and school
    // for the dashboard and the exceptions inbox. Every status change writes all of this table's indexes
    // (status is indexed, so none is a HOT update): one index for both uses, not two (issue 18 §2).
    index('recharge_orders_open_idx')
      .on(t.status, t.schoolId, t.createdAt)
      .where(sql`status in ('CREATED', 'PAID', 'CREDIT_FAILED')`),
    // A card's recharges (its statement, the admin orders search by card) and a school's by date.
    index('recharge_orders_school_card_idx').on(t.schoolId, t.cardNo, t.createdAt),
    index('recharge_orders_school_created_idx').on(t.schoolId, t.createdAt),
  ],
);

export const REPAYMENT_STATUSES = ['CREATED', 'PAID', 'CLOSED'] as const;

export const repayments = pgTable(
  'repayments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    outTradeNo: text('out_trade_no').notNull(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    amountFen: integer('amount_fen').notNull(),
    status: text('status', { enum: REPAYMENT_STATUSES }).notNull().default('CREATED'),
    alipayTradeNo: text('alipay_trade_no'),
    expiresAt: tstz('expires_at').notNull(),
    paidAt: tstz('paid_at'),
    closedAt: tstz('closed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('repayments_out_trade_no_key').on(t.outTradeNo),
    check('repayments_amount_positive', sql`${t.amountFen} > 0`),
    check('repayments_status_valid', oneOf('status', REPAYMENT_STATUSES)),
    index('repayments_user_idx').on(t.userId, t.status),
    index('repayments_school_created_idx').on(t.schoolId, t.createdAt),
  ],
);

export const DEDUCTION_STATUSES = [
  'PENDING',
  'COLLECTED',
  'RETRYING',
  'ARREARS',
  'SETTLED',
  'REVERSED',
  'DECLINED',
  /** The school gave up an ARREARS debt (an admin's waive, issue 13): the school's loss, approvals resume. */
  'WAIVED',
] as const;
export const CHARGE_STATES = ['UNKNOWN', 'AWAITING_BUYER'] as const;
export const DEDUCTION_DECISIONS = ['APPROVED', 'DECLINED'] as const;
export const deductions = pgTable(
  'deductions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Our Alipay out_trade_no (prefix D), so that Alipay dedups retried charges. */
    deductionNo: text('deduction_no').notNull(),
    // school_id, payer_user_id and agreement_id are deliberately not foreign keys: every approval would
    // take a KEY SHARE lock on its school's one row, and dozens of concurrent swipes sharing such a lock turn
    // it into MultiXacts, which cost more than the rest of the decision (measured: bench:deduct). The
    // values come from rows the decision function has just read.
    schoolId: uuid('school_id').notNull(),
    txnNo: text('txn_no').notNull(),
    /**
     * Null on a reversal tombstone (the reversal arrived before its deduction, DESIGN §6.2) and on a swipe
     * whose dynamic code resolved to no card.
     */
    cardNo: text('card_no'),
    /** Swipes by membership-card dynamic code (DESIGN §6.4): the keyed hash of the code presented. */
    dynamicCodeHash: text('dynamic_code_hash'),
    amountFen: integer('amount_fen'),
    terminalId: text('terminal_id'),
    occurredAt: tstz('occurred_at'),
    gatewayClientId: text('gateway_client_id'),
    payerUserId: uuid('payer_user_id'),
    agreementId: uuid('agreement_id'),
    decision: text('decision', { enum: DEDUCTION_DECISIONS }).notNull(),
    declineReason: text('decline_reason', { enum: DECLINE_REASONS }),
    status: text('status', { enum: DEDUCTION_STATUSES }).notNull(),
    /** trade.pay calls made (shown to the gateway). */
    attempts: integer('attempts').notNull().default(0),
    /**
     * Slots of the school's retry schedule used: one per charge Alipay answered as failed (a refusal, a
     * trade closed unpaid). A charge found by query never to have happened uses none: it is sent again at
     * once (deduction-collection.ts). The next delay is retry_schedule_seconds[retries_used - 1].
     */
    retriesUsed: integer('retries_used').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at'),
    lastErrorCode: text('last_error_code'),
    alipayTradeNo: text('alipay_trade_no'),
    collectedAt: tstz('collected_at'),
    reversedAt: tstz('reversed_at'),
    refundOutRequestNo: text('refund_out_request_no'),
    refundedAt: tstz('refunded_at'),
    repaymentId: uuid('repayment_id').references(() => repayments.id),
    settledAt: tstz('settled_at'),
    /** WAIVED: when, by whom (audit actor id) and why; the audit log holds the full record. */
    waivedAt: tstz('waived_at'),
    waiveReason: text('waive_reason'),
    /**
     * The out_trade_no the collector charges with: the deduction number, or `<deduction no>_<n>` once an
     * earlier trade of it is known to be closed unpaid (Alipay never reopens a closed out_trade_no). Null on
     * declines and tombstones.
     */
    outTradeNo: text('out_trade_no'),
    /**
     * What we know of the trade under out_trade_no: null = nothing was charged with it (pay it);
     * UNKNOWN = a charge may have happened (query before anything else); AWAITING_BUYER = the trade waits for
     * the buyer (10003), polled until `awaiting_buyer_since` + the poll window, then cancelled.
     */
    chargeState: text('charge_state', { enum: CHARGE_STATES }),
    awaitingBuyerSince: tstz('awaiting_buyer_since'),
    /** A collector holds the row until then; reversals of a leased row wait for its attempt to end. */
    leaseUntil: tstz('lease_until'),
    reversalRequestedAt: tstz('reversal_requested_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('deductions_school_txn_key').on(t.schoolId, t.txnNo),
    uniqueIndex('deductions_out_trade_no_key').on(t.outTradeNo),
    // Each check is a PL/pgSQL function of migration 0029 (the lists of values are written there): PostgreSQL
    // reads a table's checks afresh for every INSERT or UPDATE statement (their stored expression trees, then
    // constant folding), and a swipe inserts its deduction by its own statement; a function call is a small
    // tree, where the same checks written out were a quarter of PostgreSQL's work per swipe (issue 18 §1).
    // The schema test holds that every value of the constants here is accepted.
    check('deductions_charge_state_valid', sql`deductions_charge_state_valid(charge_state)`),
    // No index of its own on deduction_no: it is never looked up, and it starts out as the out_trade_no,
    // which is unique; one index less on the hottest insert of the platform (bench:deduct).
    check('deductions_amount_positive', sql`deductions_amount_positive(amount_fen)`),
    check('deductions_status_valid', sql`deductions_status_valid(status)`),
    check('deductions_decision_valid', sql`deductions_decision_valid(decision)`),
    check('deductions_decline_reason_valid', sql`deductions_decline_reason_valid(decision, decline_reason)`),
    check(
      'deductions_tombstone_shape',
      sql`deductions_tombstone_shape(amount_fen, card_no, dynamic_code_hash, decline_reason, status)`,
    ),
    // The arrears check reads a payer's unpaid deductions on every swipe; approvals (PENDING) stay out of
    // this index so that a swipe does not have to insert into it.
    index('deductions_payer_debts_idx')
      .on(t.payerUserId)
      .where(sql`status in ('RETRYING', 'ARREARS')`),
    index('deductions_card_day_idx').on(t.schoolId, t.cardNo, t.createdAt),
    index('deductions_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status in ('PENDING', 'RETRYING')`),
    // The admins' dashboard and exceptions inbox (issue 13): what a school is owed, without reading its
    // millions of settled rows. Approvals (PENDING) stay out, so a swipe inserts nothing here.
    index('deductions_school_debts_idx')
      .on(t.schoolId, t.status, t.createdAt)
      .where(sql`status in ('RETRYING', 'ARREARS')`),
    // An order-number search finds a deduction by its out_trade_no; this index holds only the rows whose
    // number differs from it (declines, and re-numbered charges `D…_2`), so an approval inserts nothing here.
    index('deductions_renumbered_idx')
      .on(t.deductionNo)
      .where(sql`out_trade_no is distinct from deduction_no`),
  ],
);

export const deductionAttempts = pgTable(
  'deduction_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deductionId: uuid('deduction_id')
      .notNull()
      .references(() => deductions.id),
    attemptNo: integer('attempt_no').notNull(),
    outcome: text('outcome').notNull(),
    alipayCode: text('alipay_code'),
    alipaySubCode: text('alipay_sub_code'),
    outTradeNo: text('out_trade_no'),
    createdAt: createdAt(),
  },
  (t) => [index('deduction_attempts_deduction_idx').on(t.deductionId)],
);

export const REFUND_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export const REFUND_KINDS = [
  'DEDUCTION_REVERSAL',
  'RECHARGE_REFUND',
  /** Items a vending machine failed to give out (DESIGN §7.6). */
  'TERMINAL_DISPENSE',
  /** A terminal payment that is not the order's: it came after the order closed, or after another one. */
  'TERMINAL_UNWANTED_PAYMENT',
] as const;

export const refunds = pgTable(
  'refunds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    kind: text('kind', { enum: REFUND_KINDS }).notNull(),
    outTradeNo: text('out_trade_no').notNull(),
    outRequestNo: text('out_request_no').notNull(),
    amountFen: integer('amount_fen').notNull(),
    status: text('status', { enum: REFUND_STATUSES }).notNull().default('PENDING'),
    reason: text('reason'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    completedAt: tstz('completed_at'),
    /** An admin took a refund that could not go through out of the inbox (issue 13): when, who, why. */
    handledAt: tstz('handled_at'),
    handledBy: text('handled_by'),
    handledReason: text('handled_reason'),
    /** Terminal refunds: the order, and the royalty to take back first (refund_royalty_parameters). */
    terminalOrderId: uuid('terminal_order_id').references(() => terminalOrders.id),
    royaltyReturns: jsonb('royalty_returns'),
    /** Refunds drained by jobs/terminals/terminal-refunds.ts: when the next attempt is due (or leased until). */
    nextAttemptAt: tstz('next_attempt_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('refunds_trade_request_key').on(t.outTradeNo, t.outRequestNo),
    index('refunds_school_created_idx').on(t.schoolId, t.createdAt),
    index('refunds_school_open_idx')
      .on(t.schoolId, t.status, t.createdAt)
      .where(sql`status <> 'SUCCEEDED'`),
    index('refunds_terminal_order_idx')
      .on(t.terminalOrderId)
      .where(sql`terminal_order_id is not null`),
    index('refunds_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status = 'PENDING' and next_attempt_at is not null`),
    check('refunds_amount_positive', sql`${t.amountFen} > 0`),
    check('refunds_status_valid', oneOf('status', REFUND_STATUSES)),
    check('refunds_kind_valid', oneOf('kind', REFUND_KINDS)),
  ],
);

/**
 * Campus-code payments (seed 001, DESIGN §7.5, docs/campus-code.md). A row per uploaded item, whatever the
 * answer, so that a repeated device txnNo always gets its first answer:
 *   accepted: PENDING → (charged at Alipay) PAID | RETRYING → … | FAILED → (repaid by the student) SETTLED
 *   not accepted: EXPIRED, REJECTED (reject_reason), DUPLICATE_CODE (the code was accepted from another upload)
 */
export const CAMPUS_CODE_STATUSES = [
  'PENDING',
  'RETRYING',
  'PAID',
  'FAILED',
  'SETTLED',
  'EXPIRED',
  'REJECTED',
  'DUPLICATE_CODE',
] as const;
/** The statuses of a payment that owns its code: no other upload of the same code is accepted. */
export const CAMPUS_CODE_OWNING_STATUSES = ['PENDING', 'RETRYING', 'PAID', 'FAILED', 'SETTLED'] as const;

export const campusCodePayments = pgTable(
  'campus_code_payments',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`uuidv7()`),
    /** Our number for the payment (prefix C); also the out_trade_no of its first charge. */
    paymentNo: text('payment_no').notNull(),
    // No foreign key to schools, like deductions.school_id: a batch of 500 rows would take 500 KEY SHARE
    // locks on the school's one row, shared with the other devices uploading at the same time.
    schoolId: uuid('school_id').notNull(),
    /** The uploading device (gateway client): who to chase about late uploads. */
    gatewayClientId: text('gateway_client_id').notNull(),
    txnNo: text('txn_no').notNull(),
    terminalId: text('terminal_id').notNull(),
    /** Keyed hash of the code's final_data: a code is accepted once, whichever device uploads it (seed 001 §4). */
    codeHash: text('code_hash').notNull(),
    /** final_data, encrypted: the auth_code of the charge. Kept only while a charge may still be needed. */
    finalDataEnc: text('final_data_enc'),
    templateId: integer('template_id'),
    schoolNo: text('school_no'),
    cardType: text('card_type'),
    studentNo: text('student_no'),
    studentName: text('student_name'),
    amountFen: integer('amount_fen').notNull(),
    /** in_use_time: when the student's phone made the code. Null when the data could not be read. */
    generatedAt: tstz('generated_at'),
    scannedAt: tstz('scanned_at').notNull(),
    /** Uploaded more than the school's late threshold (24 h) after the code was made (seed 001 §4). */
    isLate: boolean('is_late').notNull().default(false),
    status: text('status', { enum: CAMPUS_CODE_STATUSES }).notNull(),
    rejectReason: text('reject_reason'),
    /** The out_trade_no the drainer charges with: payment_no, or `<payment no>_<n>` after a closed trade. */
    outTradeNo: text('out_trade_no'),
    /** trade.pay calls made. */
    attempts: integer('attempts').notNull().default(0),
    /** Charges Alipay answered as failed (a refusal, a trade closed unpaid): slots of the retry schedule used. */
    retriesUsed: integer('retries_used').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at'),
    /** As deductions.charge_state: null = nothing charged under out_trade_no; UNKNOWN; AWAITING_BUYER. */
    chargeState: text('charge_state', { enum: CHARGE_STATES }),
    /** When the charge whose outcome is open was sent (or began to wait for the buyer). */
    chargeOpenSince: tstz('charge_open_since'),
    leaseUntil: tstz('lease_until'),
    lastErrorCode: text('last_error_code'),
    alipayTradeNo: text('alipay_trade_no'),
    paidAt: tstz('paid_at'),
    failedAt: tstz('failed_at'),
    repaymentId: uuid('repayment_id').references(() => repayments.id),
    settledAt: tstz('settled_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // No index of its own on payment_no (as deductions.deduction_no): an accepted payment's starts out as its
    // out_trade_no, which is unique, and every index costs each row of a 500-payment upload and each charge.
    uniqueIndex('campus_code_payments_out_trade_no_key').on(t.outTradeNo),
    uniqueIndex('campus_code_payments_school_txn_key').on(t.schoolId, t.txnNo),
    uniqueIndex('campus_code_payments_code_owner_key')
      .on(t.codeHash)
      .where(sql.raw(`status in (${CAMPUS_CODE_OWNING_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    check('campus_code_payments_amount_positive', sql`${t.amountFen} > 0`),
    check('campus_code_payments_status_valid', oneOf('status', CAMPUS_CODE_STATUSES)),
    check(
      'campus_code_payments_charge_state_valid',
      sql`charge_state is null or ${oneOf('charge_state', CHARGE_STATES)}`,
    ),
    check(
      'campus_code_payments_rejection_has_reason',
      sql`(status = 'REJECTED') = (reject_reason is not null)`,
    ),
    index('campus_code_payments_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status in ('PENDING', 'RETRYING')`),
    index('campus_code_payments_student_idx').on(t.schoolId, t.studentNo, t.createdAt),
    // The admin lists of what went wrong (FAILED, EXPIRED); paid payments never enter it.
    index('campus_code_payments_exceptions_idx')
      .on(t.schoolId, t.status, t.createdAt)
      .where(sql`status in ('FAILED', 'EXPIRED')`),
    index('campus_code_payments_late_idx')
      .on(t.schoolId, t.createdAt)
      .where(sql`is_late`),
  ],
);

export const campusCodeAttempts = pgTable(
  'campus_code_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => campusCodePayments.id),
    attemptNo: integer('attempt_no').notNull(),
    outcome: text('outcome').notNull(),
    alipayCode: text('alipay_code'),
    alipaySubCode: text('alipay_sub_code'),
    outTradeNo: text('out_trade_no'),
    createdAt: createdAt(),
  },
  (t) => [index('campus_code_attempts_payment_idx').on(t.paymentId)],
);

/** Vending machines and cashier windows without card readers (seed 002, DESIGN §7.6). */
export const TERMINAL_KINDS = ['VENDING', 'CASHIER'] as const;
export const TERMINAL_STATUSES = ['ACTIVE', 'DISABLED'] as const;
/**
 * Where a terminal's money goes (seed 002 "资金模式"): PLAIN — the school's account; RESTRICTED (收款限制集) —
 * every trade's seller_id is the operator's account; ROYALTY (分润) — the school's account collects and the
 * operator's share is split off, on the trade (`royalty_info`, ON_PAYMENT) or after the goods were given
 * (`alipay.trade.order.settle`, AFTER_DISPENSE).
 */
export const TERMINAL_MONEY_MODES = ['PLAIN', 'RESTRICTED', 'ROYALTY'] as const;
export const ROYALTY_TIMINGS = ['ON_PAYMENT', 'AFTER_DISPENSE'] as const;

export const terminals = pgTable(
  'terminals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    /** Alipay's terminal_id (seed 002: mandatory on every trade of a vending machine), ≤ 32 characters. */
    terminalId: text('terminal_id').notNull(),
    kind: text('kind', { enum: TERMINAL_KINDS }).notNull(),
    name: text('name').notNull(),
    location: text('location'),
    /** Who runs the machine (a vending company, the canteen). */
    operatorName: text('operator_name'),
    moneyMode: text('money_mode', { enum: TERMINAL_MONEY_MODES }).notNull().default('PLAIN'),
    /** RESTRICTED: the operator's Alipay account (PID, 2088…), seller_id of every trade. */
    sellerId: text('seller_id'),
    /** ROYALTY: the operator's account that receives the share, and the share as basis points or fen. */
    royaltyAccount: text('royalty_account'),
    royaltyBps: integer('royalty_bps'),
    royaltyFixedFen: integer('royalty_fixed_fen'),
    royaltyTiming: text('royalty_timing', { enum: ROYALTY_TIMINGS }),
    /** The terminal's own HMAC client (gateway_clients, kind TERMINAL): its orders are signed with it. */
    gatewayClientId: text('gateway_client_id')
      .notNull()
      .references(() => gatewayClients.id),
    /** Where paid orders are pushed (signed like the machine's own requests); null: the machine polls. */
    callbackUrl: text('callback_url'),
    /** The machine's timeout: an order unpaid after this long is closed, and money after it refunded. */
    orderTimeoutSeconds: integer('order_timeout_seconds').notNull().default(120),
    status: text('status', { enum: TERMINAL_STATUSES }).notNull().default('ACTIVE'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('terminals_school_terminal_key').on(t.schoolId, t.terminalId),
    uniqueIndex('terminals_gateway_client_key').on(t.gatewayClientId),
    // What terminal_orders_terminal_school_fk references.
    uniqueIndex('terminals_id_school_key').on(t.id, t.schoolId),
    check('terminals_kind_valid', oneOf('kind', TERMINAL_KINDS)),
    check('terminals_status_valid', oneOf('status', TERMINAL_STATUSES)),
    check('terminals_money_mode_valid', oneOf('money_mode', TERMINAL_MONEY_MODES)),
    check('terminals_terminal_id_format', sql`${t.terminalId} ~ '^[A-Za-z0-9_-]{1,32}$'`),
    check('terminals_timeout_range', sql`${t.orderTimeoutSeconds} between 30 and 86400`),
    check(
      'terminals_money_mode_shape',
      sql`(money_mode = 'RESTRICTED') = (seller_id is not null)
        and (money_mode = 'ROYALTY') = (royalty_account is not null)
        and (money_mode = 'ROYALTY') = (royalty_timing is not null)
        and (money_mode <> 'ROYALTY' or ((royalty_bps is null) <> (royalty_fixed_fen is null)))
        and (money_mode = 'ROYALTY' or (royalty_bps is null and royalty_fixed_fen is null))
        and (royalty_bps is null or royalty_bps between 1 and 10000)
        and (royalty_fixed_fen is null or royalty_fixed_fen > 0)
        and (royalty_timing is null or ${oneOf('royalty_timing', ROYALTY_TIMINGS)})`,
    ),
    check(
      'terminals_accounts_format',
      sql`(seller_id is null or seller_id ~ '^2088[0-9]{12}$') and (royalty_account is null or royalty_account ~ '^2088[0-9]{12}$')`,
    ),
  ],
);

/**
 * A terminal's order (DESIGN §7.6): CREATED (waiting for one of its payments) → PAID (the first payment that
 * arrived in time) | CLOSED (the machine's timeout passed unpaid: any payment after it is refunded).
 * After PAID the machine reports what it dispensed (dispense_result); failed items are refunded. The paid
 * callback to the machine, the royalty settlement and the dispense report each keep their own state here.
 */
export const TERMINAL_ORDER_STATUSES = ['CREATED', 'PAID', 'CLOSED'] as const;
export const DISPENSE_RESULTS = ['OK', 'PARTIAL', 'FAILED'] as const;
/** The paid callback to the machine: PENDING until a 2xx, GAVE_UP after TERMINAL_CALLBACK_GIVE_UP_MS. */
export const CALLBACK_STATUSES = ['PENDING', 'ACKNOWLEDGED', 'GAVE_UP'] as const;
/** alipay.trade.order.settle of an AFTER_DISPENSE order: PENDING (due) → SENT (async, result awaited) → … */
export const SETTLE_STATUSES = ['PENDING', 'SENT', 'SUCCEEDED', 'FAILED', 'NOT_NEEDED'] as const;

export const terminalOrders = pgTable(
  'terminal_orders',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`uuidv7()`),
    /** Our number (prefix T); its payments' out_trade_nos are `<order no>_Q` and `<order no>_M<n>`. */
    orderNo: text('order_no').notNull(),
    /** The terminal's school (terminal_orders_terminal_school_fk below). */
    schoolId: uuid('school_id').notNull(),
    terminalRef: uuid('terminal_ref').notNull(),
    /** Alipay's terminal_id, copied: what the trades carried. */
    terminalId: text('terminal_id').notNull(),
    /** The machine's own order number: idempotency key per terminal. */
    outOrderNo: text('out_order_no').notNull(),
    /** Hash of the amount and items as sent: a repeat of outOrderNo must match it (else ORDER_CONFLICT). */
    requestHash: text('request_hash').notNull(),
    items: jsonb('items').notNull(),
    amountFen: integer('amount_fen').notNull(),
    subject: text('subject').notNull(),
    /** What the money mode was when the order was made (the terminal may change afterwards). */
    sellerId: text('seller_id'),
    royaltyAccount: text('royalty_account'),
    royaltyFen: integer('royalty_fen'),
    royaltyTiming: text('royalty_timing', { enum: ROYALTY_TIMINGS }),
    status: text('status', { enum: TERMINAL_ORDER_STATUSES }).notNull().default('CREATED'),
    /** The precreate QR (当面付扫码, ALIPAY-M2.md §1) shown next to the mini-program link. */
    qrCode: text('qr_code'),
    expiresAt: tstz('expires_at').notNull(),
    paidPaymentId: uuid('paid_payment_id'),
    paidAt: tstz('paid_at'),
    closedAt: tstz('closed_at'),
    closeReason: text('close_reason'),
    dispenseResult: text('dispense_result', { enum: DISPENSE_RESULTS }),
    /** The report as sent: indexes of failed items with the quantities that did not come out. */
    failedItems: jsonb('failed_items'),
    dispensedAt: tstz('dispensed_at'),
    callbackStatus: text('callback_status', { enum: CALLBACK_STATUSES }),
    callbackAttempts: integer('callback_attempts').notNull().default(0),
    callbackNextAt: tstz('callback_next_at'),
    callbackLastError: text('callback_last_error'),
    callbackAcknowledgedAt: tstz('callback_acknowledged_at'),
    settleStatus: text('settle_status', { enum: SETTLE_STATUSES }),
    settleOutRequestNo: text('settle_out_request_no'),
    settleFen: integer('settle_fen'),
    settleNo: text('settle_no'),
    settleAttempts: integer('settle_attempts').notNull().default(0),
    settleNextAt: tstz('settle_next_at'),
    settleLastError: text('settle_last_error'),
    settledAt: tstz('settled_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('terminal_orders_order_no_key').on(t.orderNo),
    uniqueIndex('terminal_orders_terminal_out_order_key').on(t.terminalRef, t.outOrderNo),
    // Each check calls a function holding its predicate and list of values (migration 0032; why: 0029).
    check('terminal_orders_amount_positive', sql`terminal_orders_amount_positive(amount_fen)`),
    check('terminal_orders_status_valid', sql`terminal_orders_status_valid(status)`),
    check('terminal_orders_dispense_valid', sql`terminal_orders_dispense_valid(dispense_result)`),
    check('terminal_orders_callback_valid', sql`terminal_orders_callback_valid(callback_status)`),
    check('terminal_orders_settle_valid', sql`terminal_orders_settle_valid(settle_status)`),
    check(
      'terminal_orders_royalty_within_amount',
      sql`terminal_orders_royalty_within_amount(royalty_fen, amount_fen)`,
    ),
    // One key for both (migration 0032): the school exists through the terminal's own key, and an order's
    // insert locks one referenced row (its terminal) instead of two (its terminal and its school's one row).
    foreignKey({
      name: 'terminal_orders_terminal_school_fk',
      columns: [t.terminalRef, t.schoolId],
      foreignColumns: [terminals.id, terminals.schoolId],
    }),
    index('terminal_orders_school_idx').on(t.schoolId, t.createdAt),
    index('terminal_orders_expiry_idx')
      .on(t.expiresAt)
      .where(sql`status = 'CREATED'`),
    index('terminal_orders_callback_due_idx')
      .on(t.callbackNextAt)
      .where(sql`callback_status = 'PENDING'`),
    index('terminal_orders_settle_due_idx')
      .on(t.settleNextAt)
      .where(sql`settle_status in ('PENDING', 'SENT')`),
    index('terminal_orders_awaiting_dispense_idx')
      .on(t.schoolId, t.paidAt)
      .where(sql`status = 'PAID' and dispense_result is null`),
    // The exceptions inbox's other terminal problems (db/repos/inbox/inbox-items.ts): few rows, read per school.
    index('terminal_orders_needs_person_idx')
      .on(t.schoolId)
      .where(sql`callback_status = 'GAVE_UP' or settle_status = 'FAILED'`),
  ],
);

/**
 * One Alipay trade of a terminal order: the precreate QR (channel QR, `<order no>_Q`) or a mini-program
 * payment (MINIAPP, `<order no>_M<n>`, one per person who opened the page). CREATED → PAID | CLOSED; a PAID
 * payment that is not the order's (late, or a second one) is refunded whole.
 */
export const TERMINAL_PAYMENT_CHANNELS = ['QR', 'MINIAPP'] as const;
export const TERMINAL_PAYMENT_STATUSES = ['CREATED', 'PAID', 'CLOSED'] as const;

export const terminalPayments = pgTable(
  'terminal_payments',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`uuidv7()`),
    orderId: uuid('order_id')
      .notNull()
      .references(() => terminalOrders.id),
    schoolId: uuid('school_id').notNull(),
    channel: text('channel', { enum: TERMINAL_PAYMENT_CHANNELS }).notNull(),
    /** 0 for the QR, 1… for mini-program payments. */
    seq: integer('seq').notNull(),
    outTradeNo: text('out_trade_no').notNull(),
    /** The mini-program payer; a QR payer is known only by Alipay's buyer id. */
    userId: uuid('user_id').references(() => users.id),
    status: text('status', { enum: TERMINAL_PAYMENT_STATUSES }).notNull().default('CREATED'),
    alipayTradeNo: text('alipay_trade_no'),
    /** buyer_open_id or buyer_id from Alipay. */
    buyerId: text('buyer_id'),
    /** The payer's own campus card at the school, so the payment shows in its statement. */
    cardNo: text('card_no'),
    paidAt: tstz('paid_at'),
    closedAt: tstz('closed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('terminal_payments_out_trade_no_key').on(t.outTradeNo),
    uniqueIndex('terminal_payments_order_seq_key').on(t.orderId, t.seq),
    uniqueIndex('terminal_payments_order_user_key')
      .on(t.orderId, t.userId)
      .where(sql`channel = 'MINIAPP'`),
    check('terminal_payments_channel_valid', sql`terminal_payments_channel_valid(channel)`),
    check('terminal_payments_status_valid', sql`terminal_payments_status_valid(status)`),
    // An order's payments (by order_id alone, or in seq order) are read through terminal_payments_order_seq_key.
    index('terminal_payments_card_idx')
      .on(t.schoolId, t.cardNo, t.paidAt)
      .where(sql`card_no is not null`),
    index('terminal_payments_user_idx')
      .on(t.userId, t.createdAt)
      .where(sql`user_id is not null`),
    // The day's paid trades of a school, for the reconciliation (domain/reconciliation/record-sources.ts).
    index('terminal_payments_school_paid_idx')
      .on(t.schoolId, t.paidAt)
      .where(sql`status = 'PAID'`),
  ],
);

/**
 * The campus card as an Alipay membership card (DESIGN §6.4, seed 003): one program per school, set by the
 * operator. The CRM token that AntBuilder card management sends is kept only as a SHA-256 hash (it is a
 * random secret, so no key is needed to make it unguessable); our RSA2 key is referred to, never stored.
 */
export const membershipPrograms = pgTable(
  'membership_programs',
  {
    schoolId: uuid('school_id')
      .primaryKey()
      .references(() => schools.id),
    crmTokenHash: text('crm_token_hash').notNull(),
    /** Base URL of the school's card management (mini-core): we POST /card/update and /card/changeTemplate. */
    cardManagementUrl: text('card_management_url').notNull(),
    studentTemplateId: text('student_template_id').notNull(),
    staffTemplateId: text('staff_template_id').notNull(),
    lostTemplateId: text('lost_template_id').notNull(),
    /** Where our private key lives: `file:<path>` or `env:<VARIABLE>` (lib/key-references.ts). */
    signingKeyRef: text('signing_key_ref').notNull(),
    /** The claim link card management gives (领卡链接), opened by the mini-program's "add to card wallet". */
    claimUrl: text('claim_url'),
    /** Points per whole yuan recharged; 0 = the school gives no points. */
    pointsPerYuan: integer('points_per_yuan').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('membership_programs_crm_token_hash_key').on(t.crmTokenHash),
    check('membership_programs_points_per_yuan', sql`${t.pointsPerYuan} between 0 and 1000`),
  ],
);

export const MEMBER_LEVELS = ['STUDENT', 'STAFF'] as const;
/** OPENED: card management asked for the card (openCardInfo); IN_WALLET: cardChange ADD; REMOVED: DEL. */
export const MEMBERSHIP_CARD_STATUSES = ['OPENED', 'IN_WALLET', 'REMOVED'] as const;

export const membershipCards = pgTable(
  'membership_cards',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    /** The campus card number; our bizCardNo and the cardNo card management shows. */
    cardNo: text('card_no').notNull(),
    /** The wallet owner as card management names them (seed 003: "2088…"). */
    alipayUserId: text('alipay_user_id').notNull(),
    level: text('level', { enum: MEMBER_LEVELS }).notNull(),
    status: text('status', { enum: MEMBERSHIP_CARD_STATUSES }).notNull().default('OPENED'),
    alipayCardNo: text('alipay_card_no'),
    /** The template card management shows the card with, as far as we know. */
    templateId: text('template_id').notNull(),
    /** The template the card should show (LOST while lost, else its level's); synced by the job. */
    wantedTemplateId: text('wanted_template_id').notNull(),
    templateChangeReason: text('template_change_reason'),
    points: integer('points').notNull().default(0),
    /** The points card management was last told. */
    syncedPoints: integer('synced_points').notNull().default(0),
    pointsChangeReason: text('points_change_reason'),
    syncAttempts: integer('sync_attempts').notNull().default(0),
    nextSyncAt: tstz('next_sync_at'),
    syncLeaseUntil: tstz('sync_lease_until'),
    lastSyncError: text('last_sync_error'),
    /** Card management refused an update for good (or retries ran out); a new change tries again. */
    syncFailedAt: tstz('sync_failed_at'),
    addedAt: tstz('added_at'),
    removedAt: tstz('removed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('membership_cards_level_valid', oneOf('level', MEMBER_LEVELS)),
    check('membership_cards_status_valid', oneOf('status', MEMBERSHIP_CARD_STATUSES)),
    check('membership_cards_points_not_negative', sql`${t.points} >= 0`),
    // One wallet card per campus card, and one per Alipay user and school: bizCardNo alone identifies it
    // in card management's updates, and mdCodeChange names only the user.
    uniqueIndex('membership_cards_school_card_live_key')
      .on(t.schoolId, t.cardNo)
      .where(sql`status <> 'REMOVED'`),
    uniqueIndex('membership_cards_school_user_live_key')
      .on(t.schoolId, t.alipayUserId)
      .where(sql`status <> 'REMOVED'`),
    index('membership_cards_out_of_sync_idx')
      .on(t.nextSyncAt)
      .where(sql`status = 'IN_WALLET' and sync_failed_at is null and next_sync_at is not null`),
  ],
);

/**
 * Dynamic codes shown in the wallet (mdCodeChange) and presented at the POS instead of a card number. Only a
 * keyed hash of the code is kept, so the table cannot be read back into usable codes; the row binds the
 * code to its card, and `used_at` makes it single use.
 */
export const membershipCodes = pgTable(
  'membership_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    membershipCardId: uuid('membership_card_id')
      .notNull()
      .references(() => membershipCards.id),
    cardNo: text('card_no').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    usedTxnNo: text('used_txn_no'),
    createdAt: createdAt(),
  },
  (t) => [index('membership_codes_expires_idx').on(t.expiresAt)],
);

export const GATEWAY_CLIENT_STATUSES = ['ACTIVE', 'REVOKED'] as const;
/** POS: the card system's gateways (deductions, campus codes); TERMINAL: one vending machine or window. */
export const GATEWAY_CLIENT_KINDS = ['POS', 'TERMINAL'] as const;

export const gatewayClients = pgTable(
  'gateway_clients',
  {
    id: text('id').primaryKey(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    name: text('name').notNull(),
    secretEnc: text('secret_enc').notNull(),
    /** After a rotation the old secret keeps working until this time, so terminals can be updated. */
    previousSecretEnc: text('previous_secret_enc'),
    previousSecretValidUntil: tstz('previous_secret_valid_until'),
    status: text('status', { enum: GATEWAY_CLIENT_STATUSES }).notNull().default('ACTIVE'),
    kind: text('kind', { enum: GATEWAY_CLIENT_KINDS }).notNull().default('POS'),
    createdAt: createdAt(),
    rotatedAt: tstz('rotated_at'),
  },
  () => [
    check('gateway_clients_status_valid', oneOf('status', GATEWAY_CLIENT_STATUSES)),
    check('gateway_clients_kind_valid', oneOf('kind', GATEWAY_CLIENT_KINDS)),
  ],
);

export const gatewayNonces = pgTable(
  'gateway_nonces',
  {
    clientId: text('client_id').notNull(),
    nonce: text('nonce').notNull(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    // No foreign key to gateway_clients, for the same reason as deductions.school_id: one hot row.
    primaryKey({ columns: [t.clientId, t.nonce] }),
    index('gateway_nonces_expires_idx').on(t.expiresAt),
  ],
);

export const notifyLog = pgTable(
  'notify_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
    notifyType: text('notify_type'),
    notifyId: text('notify_id'),
    outTradeNo: text('out_trade_no'),
    appId: text('app_id'),
    isVerified: boolean('is_verified').notNull(),
    outcome: text('outcome').notNull(),
    detail: text('detail'),
    body: jsonb('body').notNull(),
  },
  (t) => [
    index('notify_log_out_trade_no_idx').on(t.outTradeNo),
    index('notify_log_received_idx').on(t.receivedAt),
  ],
);

/**
 * Counters of the rate limits (http/rate-limit.ts): rate-limiter-flexible's PostgreSQL store, one row per
 * limit and key (`session-ip:203.0.113.7`). `expire` is epoch ms; expired rows are deleted by the retention job.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    expire: bigint('expire', { mode: 'number' }),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);

/**
 * Reconciliation (对账, DESIGN §7.7, issue 17). One row per school and bill day: where the day's run stands
 * (WAITING_FOR_BILL until Alipay's bill exists, MATCHED once compared, FAILED after a non-retryable error),
 * its totals per kind (ours, Alipay's, the vendor's, the difference) and whether it is balanced.
 */
export const RECONCILIATION_DAY_STATUSES = ['WAITING_FOR_BILL', 'MATCHED', 'FAILED'] as const;

export const reconciliationDays = pgTable(
  'reconciliation_days',
  {
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    /** yyyy-MM-dd, the Beijing day of Alipay's bill. */
    billDate: text('bill_date').notNull(),
    status: text('status', { enum: RECONCILIATION_DAY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at'),
    lastError: text('last_error'),
    billFile: text('bill_file'),
    billRows: integer('bill_rows').notNull().default(0),
    /** DayTotals (domain/reconciliation/day-totals.ts). */
    totals: jsonb('totals'),
    findings: integer('findings').notNull().default(0),
    openFindings: integer('open_findings').notNull().default(0),
    balanced: boolean('balanced').notNull().default(false),
    matchedAt: tstz('matched_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.schoolId, t.billDate] }),
    check('reconciliation_days_status_valid', oneOf('status', RECONCILIATION_DAY_STATUSES)),
    check('reconciliation_days_date_format', sql`${t.billDate} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`),
    index('reconciliation_days_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status in ('WAITING_FOR_BILL', 'FAILED')`),
  ],
);

/**
 * The detail rows of Alipay's trade bill (业务明细), as downloaded: one per payment or refund. Amounts in fen,
 * negative on refund rows as in the file. A rerun of the day replaces them.
 */
export const billRows = pgTable(
  'bill_rows',
  {
    schoolId: uuid('school_id').notNull(),
    billDate: text('bill_date').notNull(),
    lineNo: integer('line_no').notNull(),
    tradeNo: text('trade_no').notNull(),
    outTradeNo: text('out_trade_no').notNull(),
    isRefund: boolean('is_refund').notNull(),
    /** 退款批次号/请求号: our out_request_no on refund rows. */
    refundRequestNo: text('refund_request_no'),
    subject: text('subject'),
    /** 订单金额 and 商家实收. */
    amountFen: integer('amount_fen').notNull(),
    receivedFen: integer('received_fen').notNull(),
    /** 服务费 as Alipay charged it (negative on payments). */
    feeFen: integer('fee_fen').notNull(),
    /** 分润. */
    royaltyFen: integer('royalty_fen').notNull(),
    finishedAt: tstz('finished_at'),
    terminalId: text('terminal_id'),
    memo: text('memo'),
  },
  (t) => [
    primaryKey({ columns: [t.schoolId, t.billDate, t.lineNo] }),
    index('bill_rows_out_trade_no_idx').on(t.schoolId, t.outTradeNo),
  ],
);

export const FINDING_STATUSES = ['OPEN', 'RESOLVED'] as const;

/**
 * A difference between Alipay's bill, our records and the vendor's (issue 17): its kind, the action it
 * calls for, and how it was resolved. Unique per school, day, kind and reference (out_trade_no, or
 * out_trade_no/out_request_no for refunds), so a rerun of the day adds nothing twice.
 */
export const reconciliationFindings = pgTable(
  'reconciliation_findings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    billDate: text('bill_date').notNull(),
    kind: text('kind').notNull(),
    ref: text('ref').notNull(),
    /** Which of our records it is about (RECHARGE, DEDUCTION, …; UNKNOWN when none). */
    recordKind: text('record_kind').notNull(),
    outTradeNo: text('out_trade_no').notNull(),
    tradeNo: text('trade_no'),
    cardNo: text('card_no'),
    oursFen: integer('ours_fen'),
    alipayFen: integer('alipay_fen'),
    vendorFen: integer('vendor_fen'),
    action: text('action').notNull(),
    status: text('status', { enum: FINDING_STATUSES }).notNull().default('OPEN'),
    /** APPLIED, RECREDITED, HANDLED (a person's note) or CLEARED (a rerun no longer finds it). */
    resolution: text('resolution'),
    resolvedBy: text('resolved_by'),
    resolvedAt: tstz('resolved_at'),
    note: text('note'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('reconciliation_findings_key').on(t.schoolId, t.billDate, t.kind, t.ref),
    check('reconciliation_findings_status_valid', oneOf('status', FINDING_STATUSES)),
    check(
      'reconciliation_findings_resolved_together',
      sql`(status = 'RESOLVED') = (resolution is not null and resolved_at is not null)`,
    ),
    index('reconciliation_findings_open_idx')
      .on(t.schoolId, t.createdAt)
      .where(sql`status = 'OPEN'`),
  ],
);

export const MESSAGE_STATUSES = ['PENDING', 'SENT', 'SKIPPED', 'FAILED', 'UNCONFIRMED'] as const;

/**
 * The outbox of subscription messages (domain/messages/outbox.ts): one row per event and user, sent by the
 * job `messages.send`. `dedup_key` names the event, so a repeated event never sends twice.
 */
export const userMessages = pgTable(
  'user_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    kind: text('kind').notNull(),
    dedupKey: text('dedup_key').notNull(),
    page: text('page').notNull(),
    /** The template's keyword values, in order. */
    values: jsonb('values').$type<string[]>().notNull(),
    templateId: text('template_id'),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull().default('PENDING'),
    /** SKIPPED: NO_TEMPLATE, NOT_SUBSCRIBED or NO_RECIPIENT. */
    skipReason: text('skip_reason'),
    /** One subscription send was taken for this message (a retry takes no other). */
    quotaTaken: boolean('quota_taken').notNull().default(false),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at'),
    leaseUntil: tstz('lease_until'),
    lastError: text('last_error'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('user_messages_dedup_key').on(t.dedupKey),
    index('user_messages_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status = 'PENDING'`),
    index('user_messages_user_idx').on(t.userId, t.createdAt),
    // The retention job's way to the oldest finished messages (jobs/retention.ts).
    index('user_messages_created_idx').on(t.createdAt),
    check('user_messages_status_valid', oneOf('status', MESSAGE_STATUSES)),
  ],
);

/**
 * What a user allowed through my.requestSubscribeMessage, per template: one-time templates one send per
 * subscription (they add up), long-term ones until revoked (ALIPAY-M2.md §3).
 */
export const messageSubscriptions = pgTable(
  'message_subscriptions',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    templateId: text('template_id').notNull(),
    remaining: integer('remaining').notNull().default(0),
    isLongTerm: boolean('is_long_term').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.templateId] }),
    check('message_subscriptions_remaining', sql`${t.remaining} >= 0`),
  ],
);

/**
 * Every call to Alipay and to a card system made for an order (issue 13: the admin's order timeline), with
 * its outcome and duration. Written in batches by domain/orders/call-recorder.ts from the integrations'
 * observers, never on the hot path's round trip; `order_no` is our order number (R…, D…, P…, A…, C…), the
 * out_trade_no's `_2` suffix taken off.
 */
export const OUTSIDE_SYSTEMS = ['ALIPAY', 'CARDSYS'] as const;

export const outsideCalls = pgTable(
  'outside_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderNo: text('order_no').notNull(),
    system: text('system', { enum: OUTSIDE_SYSTEMS }).notNull(),
    /** alipay.trade.pay, Recharge, … */
    operation: text('operation').notNull(),
    /** OK, or the failure class: UNKNOWN, PENDING, RETRYABLE, FINAL. */
    outcome: text('outcome').notNull(),
    code: text('code'),
    subCode: text('sub_code'),
    durationMs: integer('duration_ms').notNull(),
    /** The exact out_trade_no / out_request_no / flow number the call carried. */
    reference: text('reference'),
    startedAt: tstz('started_at').notNull(),
  },
  (t) => [
    index('outside_calls_order_idx').on(t.orderNo, t.startedAt),
    index('outside_calls_started_idx').on(t.startedAt),
  ],
);

/**
 * Every status change of an order, with its time (issue 13: the admin's order timeline; the daily
 * statistics fold these). Written by triggers in the transaction of the change (migration
 * 0015_admin_operations_functions), so no path can forget it: inserts of recharges, repayments and refunds,
 * and updates of their status and of deductions' (a swipe's insert writes nothing here: its decision is the
 * deduction row itself). `txid` lets the statistics fold read each committed change exactly once.
 */
export const orderStatusChanges = pgTable(
  'order_status_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    schoolId: uuid('school_id').notNull(),
    /** RECHARGE, DEDUCTION, REPAYMENT, REFUND. */
    orderKind: text('order_kind').notNull(),
    orderNo: text('order_no').notNull(),
    /** For a refund: the out_trade_no it refunds, so that the refunded order's timeline shows it. */
    parentNo: text('parent_no'),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    amountFen: integer('amount_fen'),
    changedAt: tstz('changed_at').notNull(),
    txid: bigint('txid', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('order_status_changes_order_idx').on(t.orderNo, t.id),
    index('order_status_changes_parent_idx')
      .on(t.parentNo, t.id)
      .where(sql`parent_no is not null`),
    index('order_status_changes_txid_idx').on(t.txid),
  ],
);

/**
 * Per school and Beijing day, counts and amounts of what happened (issue 13: the dashboard and its 7-day
 * chart): `metric` is `deduction.APPROVED`, `deduction.DECLINED.NOT_SIGNED`, `recharge.PAID`,
 * `deduction.COLLECTED`, … Folded incrementally by the `admin.stats` job (domain/admin/daily-stats.ts) from
 * new deductions and new order_status_changes; never computed by reading a school's millions of orders.
 */
export const schoolDailyStats = pgTable(
  'school_daily_stats',
  {
    schoolId: uuid('school_id').notNull(),
    day: text('day').notNull(),
    metric: text('metric').notNull(),
    count: integer('count').notNull().default(0),
    amountFen: bigint('amount_fen', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.schoolId, t.day, t.metric] })],
);

/** How far the statistics fold has read each source (domain/admin/daily-stats.ts). */
export const statsWatermarks = pgTable('stats_watermarks', {
  source: text('source').primaryKey(),
  position: text('position').notNull(),
  foldedAt: tstz('folded_at').notNull(),
});

export const ROSTER_IMPORT_STATUSES = ['QUEUED', 'RUNNING', 'DONE', 'FAILED'] as const;

/**
 * A roster file a school uploaded (issue 13): small files are imported during the request, large ones by
 * the `roster.import` job, which reports progress here; the report lists every refused row (row number,
 * field, reason), never the personal data in it. The file itself is kept only until the job has read it.
 */
export const rosterImports = pgTable(
  'roster_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    schoolId: uuid('school_id')
      .notNull()
      .references(() => schools.id),
    /** `admin:<user id>` or `operator:<name>`. */
    requestedBy: text('requested_by').notNull(),
    fileName: text('file_name').notNull(),
    format: text('format').notNull(),
    /** Rows not in this file are marked as left. */
    markMissingAsLeft: boolean('mark_missing_as_left').notNull().default(false),
    status: text('status', { enum: ROSTER_IMPORT_STATUSES }).notNull().default('QUEUED'),
    totalRows: integer('total_rows'),
    processedRows: integer('processed_rows').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    markedLeft: integer('marked_left').notNull().default(0),
    /** [{row, field, reason}], at most a few thousand (then `errorsTruncated`). */
    errors: jsonb('errors')
      .notNull()
      .default(sql`'[]'::jsonb`),
    errorsTruncated: boolean('errors_truncated').notNull().default(false),
    /** Why the whole file was refused (unreadable, unknown columns, no card number column). */
    failure: text('failure'),
    /** The uploaded bytes, until the job has read them. */
    content: text('content'),
    startedAt: tstz('started_at'),
    finishedAt: tstz('finished_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('roster_imports_status_valid', oneOf('status', ROSTER_IMPORT_STATUSES)),
    index('roster_imports_school_idx').on(t.schoolId, t.createdAt),
  ],
);
