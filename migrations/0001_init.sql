-- callbridge schema (../shared/CONTRACT.md "Data"). Runs on PostgreSQL 15+ (Supabase), and on the
-- embedded PGlite store. Plain SQL with no extension, so it is also a valid Supabase migration
-- (supabase/migrations/<timestamp>_init.sql). Applied once per database by `npm run migrate`, which
-- records the version in schema_migrations; the statements are also safe to run twice.

create table if not exists calls (
  call_sid        text primary key,
  carrier         text not null,
  direction       text not null check (direction in ('inbound', 'outbound')),
  from_number     text,
  to_number       text,
  provider        text not null,
  flag_source     text not null default 'env',
  status          text not null,
  started_at      timestamptz not null,
  answered_at     timestamptz,
  ended_at        timestamptz,
  end_reason      text,
  conversation_id text,
  metrics         jsonb not null default '{}'::jsonb,
  created_at      timestamptz not null default now()
);
-- Digest and cohort report: calls started in a time window.
create index if not exists calls_started_at_idx on calls (started_at);
-- Post-call webhook: find the call of an ElevenLabs conversation.
create index if not exists calls_conversation_id_idx on calls (conversation_id);

create table if not exists transcript_turns (
  id          bigint generated always as identity primary key,
  call_sid    text not null references calls (call_sid) on delete cascade,
  -- Arrival number within the call (1-based, never renumbered): a retried write is idempotent.
  seq         integer not null check (seq >= 1),
  role        text not null check (role in ('user', 'agent')),
  text        text not null,
  interrupted boolean not null default false,
  -- Ms since the call started when the turn started: the spoken order.
  at_ms       integer not null check (at_ms >= 0),
  created_at  timestamptz not null default now(),
  constraint transcript_turns_call_seq_key unique (call_sid, seq)
);
-- The call page: one call's turns in spoken order.
create index if not exists transcript_turns_call_order_idx on transcript_turns (call_sid, at_ms, seq);

create table if not exists leads (
  id         uuid primary key default gen_random_uuid(),
  call_sid   text references calls (call_sid) on delete set null,
  name       text not null check (length(name) > 0),
  phone      text,
  email      text,
  company    text,
  need       text,
  created_at timestamptz not null default now()
);
create index if not exists leads_created_at_idx on leads (created_at);
create index if not exists leads_call_sid_idx on leads (call_sid);

create table if not exists appointments (
  id                uuid primary key default gen_random_uuid(),
  call_sid          text references calls (call_sid) on delete set null,
  lead_id           uuid references leads (id) on delete set null,
  calendar_event_id text,
  start_at          timestamptz not null,
  end_at            timestamptz not null,
  timezone          text not null,
  name              text not null,
  phone             text,
  email             text,
  notes             text,
  status            text not null default 'confirmed' check (status in ('confirmed', 'cancelled')),
  created_at        timestamptz not null default now(),
  constraint appointments_end_after_start check (end_at > start_at)
);
-- No two confirmed appointments overlap: the database decides, so two concurrent callers cannot
-- both win (SQLSTATE 23P01, PostgREST 409). A GiST exclusion over a range needs no btree_gist
-- extension: range types have their own GiST operator class.
-- https://www.postgresql.org/docs/current/rangetypes.html#RANGETYPES-CONSTRAINT
do $$ begin
  if not exists (select 1 from pg_constraint where conname = 'appointments_no_overlap') then
    alter table appointments add constraint appointments_no_overlap
      exclude using gist (tstzrange(start_at, end_at, '[)') with &&) where (status = 'confirmed');
  end if;
end $$;
create index if not exists appointments_start_at_idx on appointments (start_at);
create index if not exists appointments_created_at_idx on appointments (created_at);
create index if not exists appointments_call_sid_idx on appointments (call_sid);

create table if not exists emails (
  id                  uuid primary key default gen_random_uuid(),
  kind                text not null check (kind in ('confirmation', 'digest')),
  recipient           text not null,
  subject             text not null,
  provider_message_id text,
  status              text not null check (status in ('pending', 'sent', 'outbox', 'failed')),
  -- One email per key (digest:<date>, confirmation:<appointment id>), even across instances.
  idempotency_key     text not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint emails_idempotency_key_key unique (idempotency_key)
);
create index if not exists emails_created_at_idx on emails (created_at);

create table if not exists post_call_events (
  id              bigint generated always as identity primary key,
  conversation_id text not null,
  -- No foreign key: the webhook may describe a call this database never saw.
  call_sid        text,
  type            text not null,
  -- Unix seconds, from the webhook.
  event_timestamp bigint not null,
  payload         jsonb not null,
  received_at     timestamptz not null default now(),
  constraint post_call_events_conversation_type_key unique (conversation_id, type)
);
create index if not exists post_call_events_call_sid_idx on post_call_events (call_sid);

-- Calls started in [from_ts, to_ts) with their lead and booking counts (digest, cohort report).
-- A function so supabase-js reaches it with one rpc() call.
create or replace function calls_between(from_ts timestamptz, to_ts timestamptz)
returns table (
  call_sid text, carrier text, direction text, from_number text, to_number text, provider text,
  flag_source text, status text, started_at timestamptz, answered_at timestamptz,
  ended_at timestamptz, end_reason text, conversation_id text, metrics jsonb,
  leads bigint, bookings bigint
)
language sql stable as $$
  select c.call_sid, c.carrier, c.direction, c.from_number, c.to_number, c.provider,
         c.flag_source, c.status, c.started_at, c.answered_at, c.ended_at, c.end_reason,
         c.conversation_id, c.metrics,
         (select count(*) from leads l where l.call_sid = c.call_sid),
         (select count(*) from appointments a where a.call_sid = c.call_sid and a.status = 'confirmed')
  from calls c
  where c.started_at >= from_ts and c.started_at < to_ts
  order by c.started_at
$$;

-- Supabase exposes public tables through its REST API with the anon key: row level security with
-- no policy closes them to everyone but the service role (and the owner, which `npm run migrate`
-- and the embedded store use). https://supabase.com/docs/guides/database/postgres/row-level-security
alter table calls enable row level security;
alter table transcript_turns enable row level security;
alter table leads enable row level security;
alter table appointments enable row level security;
alter table emails enable row level security;
alter table post_call_events enable row level security;
