-- =============================================================================
-- check/exercise.sql  -  hand-run exercise of every registered Orleans query
--
-- NOT applied at runtime. Run it with psql against a scratch database on which
-- 01-main.sql .. 04-reminders.sql have been applied:
--
--   createdb orleans_sqlcheck
--   for f in 01-main 02-clustering 03-persistence 04-reminders; do
--       psql -X -v ON_ERROR_STOP=1 -d orleans_sqlcheck -f src/Silo/Sql/$f.sql; done
--   psql -X -v ON_ERROR_STOP=1 -d orleans_sqlcheck -f src/Silo/Sql/check/exercise.sql
--   dropdb orleans_sqlcheck
--
-- How a query is exercised: the text registered in OrleansQuery is read back,
-- every named parameter (@Name) the provider binds is replaced by a positional
-- one and the result is PREPAREd with the same parameter types that Npgsql sends
-- for the values the provider binds (text, integer, bigint, timestamptz, bytea).
-- A placeholder the provider does not bind aborts the script. The prepared
-- statement is then EXECUTEd with literal values and the outcome is asserted;
-- any failed assertion raises an error, which stops the script
-- (ON_ERROR_STOP). The script finishes with the line "ALL CHECKS PASSED".
-- It only touches rows of its own cluster/service ids and can be re-run.
-- =============================================================================

\set ON_ERROR_STOP 1
\pset pager off
SET client_min_messages = warning;
-- A non-UTC session time zone proves that the timestamptz columns do not
-- depend on the session setting.
SET TIME ZONE 'America/New_York';

\set dep 'saiki-sqlcheck'
\set svc 'saiki-sqlcheck-svc'

-- ---------------------------------------------------------------------------
-- helpers (session-local)
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.prepare_sql(stmt text, key text, names text[], types text[])
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    q text;
    unbound text;
BEGIN
    SELECT o.QueryText INTO q FROM OrleansQuery AS o WHERE o.QueryKey = key;
    IF q IS NULL THEN
        RAISE EXCEPTION 'query key % is not registered', key;
    END IF;
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        q := regexp_replace(q, '@' || names[i] || '(?![A-Za-z0-9_])', '$' || i, 'g');
    END LOOP;
    unbound := substring(q FROM '@[A-Za-z_][A-Za-z0-9_]*');
    IF unbound IS NOT NULL THEN
        RAISE EXCEPTION 'query % uses parameter % which the provider does not bind', key, unbound;
    END IF;
    RETURN format('PREPARE %I (%s) AS %s', stmt, array_to_string(types, ', '), q);
END
$fn$;

CREATE FUNCTION pg_temp.ok(cond boolean, label text)
RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'CHECK FAILED: %', label;
    END IF;
    RETURN 'ok - ' || label;
END
$fn$;

\echo
\echo '=== registry ==='
-- The clustering/reminders providers load all keys with this exact statement.
SELECT QueryKey, QueryText FROM OrleansQuery \g /dev/null
SELECT pg_temp.ok(
    (SELECT count(*) FROM OrleansQuery WHERE QueryKey IN (
        'GatewaysQueryKey', 'MembershipReadRowKey', 'MembershipReadAllKey',
        'InsertMembershipVersionKey', 'UpdateIAmAlivetimeKey', 'InsertMembershipKey',
        'UpdateMembershipKey', 'DeleteMembershipTableEntriesKey',
        'CleanupDefunctSiloEntriesKey', 'CleanupDefunctSiloEntryKey')) = 10,
    'all 9 mandatory clustering keys and the optional CleanupDefunctSiloEntryKey are registered');
SELECT pg_temp.ok(
    (SELECT count(*) FROM OrleansQuery WHERE QueryKey IN (
        'ReadReminderRowsKey', 'ReadReminderRowKey', 'ReadRangeRows1Key', 'ReadRangeRows2Key',
        'UpsertReminderRowKey', 'DeleteReminderRowKey', 'DeleteReminderRowsKey')) = 7,
    'all 7 reminder keys are registered');
-- The grain storage loads its keys with this exact statement (AdoNetGrainStorage.Init).
CREATE TEMP TABLE storage_init AS
SELECT QueryKey, QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey' OR QueryKey = 'ReadFromStorageKey' OR QueryKey = 'ClearStorageKey' OR QueryKey = 'DeleteStorageKey';
SELECT pg_temp.ok((SELECT count(*) FROM storage_init) = 4,
    'grain storage init query finds Write/Read/Clear and the optional DeleteStorageKey');

-- ===========================================================================
\echo
\echo '=== clustering ==='
-- ===========================================================================
DELETE FROM OrleansMembershipTable WHERE DeploymentId = :'dep';
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = :'dep';

SELECT pg_temp.prepare_sql('ins_version', 'InsertMembershipVersionKey',
    ARRAY['DeploymentId'], ARRAY['text']) \gexec
SELECT pg_temp.prepare_sql('read_all', 'MembershipReadAllKey',
    ARRAY['DeploymentId'], ARRAY['text']) \gexec
SELECT pg_temp.prepare_sql('read_row', 'MembershipReadRowKey',
    ARRAY['DeploymentId', 'Address', 'Port', 'Generation'],
    ARRAY['text', 'text', 'integer', 'integer']) \gexec
SELECT pg_temp.prepare_sql('ins_member', 'InsertMembershipKey',
    ARRAY['DeploymentId', 'IAmAliveTime', 'SiloName', 'HostName', 'Address', 'Port', 'Generation',
          'StartTime', 'Status', 'ProxyPort', 'Version'],
    ARRAY['text', 'timestamptz', 'text', 'text', 'text', 'integer', 'integer',
          'timestamptz', 'integer', 'integer', 'integer']) \gexec
SELECT pg_temp.prepare_sql('upd_member', 'UpdateMembershipKey',
    ARRAY['DeploymentId', 'Address', 'Port', 'Generation', 'IAmAliveTime', 'Status', 'SuspectTimes', 'Version'],
    ARRAY['text', 'text', 'integer', 'integer', 'timestamptz', 'integer', 'text', 'integer']) \gexec
SELECT pg_temp.prepare_sql('upd_alive', 'UpdateIAmAlivetimeKey',
    ARRAY['DeploymentId', 'Address', 'Port', 'Generation', 'IAmAliveTime'],
    ARRAY['text', 'text', 'integer', 'integer', 'timestamptz']) \gexec
SELECT pg_temp.prepare_sql('gateways', 'GatewaysQueryKey',
    ARRAY['DeploymentId', 'Status'], ARRAY['text', 'integer']) \gexec
SELECT pg_temp.prepare_sql('cleanup_bulk', 'CleanupDefunctSiloEntriesKey',
    ARRAY['DeploymentId', 'IAmAliveTime'], ARRAY['text', 'timestamptz']) \gexec
SELECT pg_temp.prepare_sql('cleanup_one', 'CleanupDefunctSiloEntryKey',
    ARRAY['DeploymentId', 'Address', 'Port', 'Generation', 'SuspectTimes', 'StartTime', 'IAmAliveTime'],
    ARRAY['text', 'text', 'integer', 'integer', 'text', 'timestamptz', 'timestamptz']) \gexec
SELECT pg_temp.prepare_sql('delete_deployment', 'DeleteMembershipTableEntriesKey',
    ARRAY['DeploymentId'], ARRAY['text']) \gexec

-- version row
EXECUTE ins_version(:'dep') \gset r_
SELECT pg_temp.ok(:'r_inserted' = 't', 'InsertMembershipVersionKey creates the version row');
EXECUTE ins_version(:'dep') \gset r_
SELECT pg_temp.ok(:'r_inserted' = 'f', 'InsertMembershipVersionKey again reports false');

CREATE TEMP TABLE ra0 AS EXECUTE read_all(:'dep');
SELECT * FROM ra0;
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(version = 0 AND starttime IS NULL) FROM ra0),
    'MembershipReadAllKey on an empty cluster returns only the version row (version 0, member columns NULL)');

-- silo 1: active gateway
EXECUTE ins_member(:'dep', '2026-03-01 10:00:00.123456+00', 'silo-1', 'host-1', '10.0.0.1', 11111, 500,
                   '2026-03-01 09:59:00.654321+00', 3, 30000, 0) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'InsertMembershipKey silo-1 with table version 0 succeeds');

-- silo 2 with a stale table version must fail and change nothing
EXECUTE ins_member(:'dep', '2020-01-01 00:00:05+00', 'silo-2', 'host-2', '10.0.0.2', 11111, 600,
                   '2020-01-01 00:00:00+00', 3, 30000, 0) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 'f', 'InsertMembershipKey with a stale table version fails');
SELECT pg_temp.ok((SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = :'dep') = 1
                  AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable WHERE DeploymentId = :'dep' AND Address = '10.0.0.2'),
    'failed insert left version 1 and no row');

-- silo 2 with the current version
EXECUTE ins_member(:'dep', '2020-01-01 00:00:05+00', 'silo-2', 'host-2', '10.0.0.2', 11111, 600,
                   '2020-01-01 00:00:00+00', 3, 30000, 1) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'InsertMembershipKey silo-2 with table version 1 succeeds');

-- duplicate silo with the current version: no insert, and the version must NOT move
EXECUTE ins_member(:'dep', '2026-03-01 10:00:00+00', 'silo-1', 'host-1', '10.0.0.1', 11111, 500,
                   '2026-03-01 09:59:00+00', 3, 30000, 2) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 'f', 'InsertMembershipKey of an existing silo fails');
SELECT pg_temp.ok((SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = :'dep') = 2,
    'failed duplicate insert did not bump the table version (atomic)');

-- IAmAlive
EXECUTE upd_alive(:'dep', '10.0.0.1', 11111, 500, '2026-03-01 10:00:30.000001+00');
SELECT pg_temp.ok(:ROW_COUNT = 1, 'UpdateIAmAlivetimeKey updates silo-1');

CREATE TEMP TABLE rr1 AS EXECUTE read_row(:'dep', '10.0.0.1', 11111, 500);
SELECT * FROM rr1;
SELECT pg_temp.ok((SELECT count(*) = 1
                          AND bool_and(version = 2 AND address = '10.0.0.1' AND port = 11111 AND generation = 500
                                       AND siloname = 'silo-1' AND hostname = 'host-1' AND status = 3 AND proxyport = 30000
                                       AND starttime = '2026-03-01 09:59:00.654321+00'
                                       AND iamalivetime = '2026-03-01 10:00:30.000001+00'
                                       AND suspecttimes IS NULL)
                   FROM rr1),
    'MembershipReadRowKey returns version 2 and silo-1 with microsecond-exact times');
CREATE TEMP TABLE rr_missing AS EXECUTE read_row(:'dep', '10.9.9.9', 1, 1);
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(version = 2 AND address IS NULL AND starttime IS NULL) FROM rr_missing),
    'MembershipReadRowKey of an unknown silo returns only the version row');

-- silo 2 is declared dead (with suspect votes)
EXECUTE upd_member(:'dep', '10.0.0.2', 11111, 600, '2020-01-01 00:00:10+00', 6,
                   'S10.0.0.1:11111:500,2020-01-01 00:00:09.000 GMT', 2) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'UpdateMembershipKey marks silo-2 Dead with table version 2');
EXECUTE upd_member(:'dep', '10.0.0.2', 11111, 600, '2026-01-01 00:00:00+00', 3, NULL, 2) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 'f', 'UpdateMembershipKey with a stale table version fails');
EXECUTE upd_member(:'dep', '10.0.0.77', 1, 1, '2026-01-01 00:00:00+00', 3, NULL, 3) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 'f', 'UpdateMembershipKey of an unknown silo fails');
SELECT pg_temp.ok((SELECT Version FROM OrleansMembershipVersionTable WHERE DeploymentId = :'dep') = 3
                  AND (SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = :'dep' AND Address = '10.0.0.2') = 6,
    'failed updates changed neither the version (3) nor silo-2 (still Dead)');

CREATE TEMP TABLE ra1 AS EXECUTE read_all(:'dep');
SELECT * FROM ra1;
SELECT pg_temp.ok((SELECT count(*) = 2 AND bool_and(version = 3) AND count(DISTINCT address) = 2 FROM ra1),
    'MembershipReadAllKey returns both silos, each with table version 3');

CREATE TEMP TABLE gw AS EXECUTE gateways(:'dep', 3);
SELECT * FROM gw;
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(address = '10.0.0.1' AND proxyport = 30000 AND generation = 500) FROM gw),
    'GatewaysQueryKey returns only the active gateway silo-1');

-- per-entry cleanup (preferred by 10.4.x): stale captures must not delete
EXECUTE cleanup_one(:'dep', '10.0.0.2', 11111, 600, 'S10.0.0.1:11111:500,2020-01-01 00:00:09.000 GMT',
                    '2020-01-01 00:00:00+00', '2020-01-01 00:00:11+00');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'CleanupDefunctSiloEntryKey with a changed IAmAliveTime deletes nothing');
EXECUTE cleanup_one(:'dep', '10.0.0.2', 11111, 600, NULL, '2020-01-01 00:00:00+00', '2020-01-01 00:00:10+00');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'CleanupDefunctSiloEntryKey with changed SuspectTimes deletes nothing');
EXECUTE cleanup_one(:'dep', '10.0.0.1', 11111, 500, NULL, '2026-03-01 09:59:00.654321+00', '2026-03-01 10:00:30.000001+00');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'CleanupDefunctSiloEntryKey never deletes a silo that is not Dead');
EXECUTE cleanup_one(:'dep', '10.0.0.2', 11111, 600, 'S10.0.0.1:11111:500,2020-01-01 00:00:09.000 GMT',
                    '2020-01-01 00:00:00+00', '2020-01-01 00:00:10+00');
SELECT pg_temp.ok(:ROW_COUNT = 1, 'CleanupDefunctSiloEntryKey with the captured values deletes dead silo-2');

-- silo 3: dead, stored with an empty suspect list, captured by the provider as NULL
EXECUTE ins_member(:'dep', '2020-01-01 00:00:05+00', 'silo-3', 'host-3', '10.0.0.3', 11111, 700,
                   '2020-01-01 00:00:00+00', 3, 0, 3) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'InsertMembershipKey silo-3 (no gateway) succeeds');
EXECUTE upd_member(:'dep', '10.0.0.3', 11111, 700, '2020-01-01 00:00:06+00', 6, '', 4) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'UpdateMembershipKey marks silo-3 Dead');
EXECUTE cleanup_one(:'dep', '10.0.0.3', 11111, 700, NULL, '2020-01-01 00:00:00+00', '2020-01-01 00:00:06+00');
SELECT pg_temp.ok(:ROW_COUNT = 1, 'CleanupDefunctSiloEntryKey treats stored empty and NULL suspect lists alike');

-- bulk cleanup (mandatory key, used when the per-entry key is absent)
EXECUTE ins_member(:'dep', '2021-01-01 00:00:05+00', 'silo-4', 'host-4', '10.0.0.4', 11111, 800,
                   '2021-01-01 00:00:00+00', 3, 0, 5) \gset r_
EXECUTE upd_member(:'dep', '10.0.0.4', 11111, 800, '2021-01-01 00:00:06+00', 6, NULL, 6) \gset r_
SELECT pg_temp.ok(:'r_succeeded' = 't', 'silo-4 inserted and marked Dead');
EXECUTE cleanup_bulk(:'dep', '2020-06-01 00:00:00+00');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'CleanupDefunctSiloEntriesKey keeps dead silos newer than the cut-off');
EXECUTE cleanup_bulk(:'dep', '2025-01-01 00:00:00+00');
SELECT pg_temp.ok(:ROW_COUNT = 1, 'CleanupDefunctSiloEntriesKey deletes only the old dead silo-4');
SELECT pg_temp.ok((SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = :'dep') = 1,
    'only active silo-1 remains');

-- delete the whole deployment
EXECUTE delete_deployment(:'dep');
SELECT pg_temp.ok(NOT EXISTS (SELECT 1 FROM OrleansMembershipTable WHERE DeploymentId = :'dep')
                  AND NOT EXISTS (SELECT 1 FROM OrleansMembershipVersionTable WHERE DeploymentId = :'dep'),
    'DeleteMembershipTableEntriesKey removes members and the version row');
CREATE TEMP TABLE ra2 AS EXECUTE read_all(:'dep');
SELECT pg_temp.ok((SELECT count(*) FROM ra2) = 0, 'MembershipReadAllKey after deletion returns no row');
EXECUTE ins_version(:'dep') \gset r_
SELECT pg_temp.ok(:'r_inserted' = 't', 'the deployment can be initialised again');
EXECUTE delete_deployment(:'dep');

-- ===========================================================================
\echo
\echo '=== grain persistence ==='
-- ===========================================================================
DELETE FROM OrleansStorage WHERE ServiceId = :'svc';

SELECT pg_temp.prepare_sql('st_read', 'ReadFromStorageKey',
    ARRAY['GrainIdHash', 'GrainIdN0', 'GrainIdN1', 'GrainTypeHash', 'GrainTypeString', 'GrainIdExtensionString', 'ServiceId'],
    ARRAY['integer', 'bigint', 'bigint', 'integer', 'text', 'text', 'text']) \gexec
SELECT pg_temp.prepare_sql('st_write', 'WriteToStorageKey',
    ARRAY['GrainIdHash', 'GrainIdN0', 'GrainIdN1', 'GrainTypeHash', 'GrainTypeString', 'GrainIdExtensionString', 'ServiceId',
          'GrainStateVersion', 'PayloadBinary'],
    ARRAY['integer', 'bigint', 'bigint', 'integer', 'text', 'text', 'text', 'integer', 'bytea']) \gexec
SELECT pg_temp.prepare_sql('st_clear', 'ClearStorageKey',
    ARRAY['GrainIdHash', 'GrainIdN0', 'GrainIdN1', 'GrainTypeHash', 'GrainTypeString', 'GrainIdExtensionString', 'ServiceId',
          'GrainStateVersion'],
    ARRAY['integer', 'bigint', 'bigint', 'integer', 'text', 'text', 'text', 'integer']) \gexec
SELECT pg_temp.prepare_sql('st_delete', 'DeleteStorageKey',
    ARRAY['GrainIdHash', 'GrainIdN0', 'GrainIdN1', 'GrainTypeHash', 'GrainTypeString', 'GrainIdExtensionString', 'ServiceId',
          'GrainStateVersion'],
    ARRAY['integer', 'bigint', 'bigint', 'integer', 'text', 'text', 'text', 'integer']) \gexec

-- grain A: integer key 42 without extension
EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'ReadFromStorageKey of a never written grain returns no row');

EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', NULL, '\x0101') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '1', 'WriteToStorageKey first write (no ETag) returns version 1');

EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', NULL, '\x0bad');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'a second first-write (no ETag) conflicts: no row returned');

EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 1, '\x0202') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '2', 'WriteToStorageKey with ETag 1 returns version 2');

EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 1, '\x0bad');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'WriteToStorageKey with stale ETag 1 conflicts: no row returned');

CREATE TEMP TABLE sr1 AS EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc');
SELECT * FROM sr1;
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(payloadbinary = '\x0202'::bytea AND version = 2) FROM sr1),
    'ReadFromStorageKey returns the last successful payload with version 2');

-- grain B: same numeric key, same hashes, but with key extension: a separate row
EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', 'ext-a', :'svc', NULL, '\x0a0a') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '1', 'a key with extension is stored separately (version 1)');
EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', 'ext-a', :'svc', NULL, '\x0bad');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'a second first-write of the extended key conflicts too');
CREATE TEMP TABLE sr2 AS EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc');
CREATE TEMP TABLE sr3 AS EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', 'ext-a', :'svc');
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(version = 2) FROM sr2)
                  AND (SELECT count(*) = 1 AND bool_and(version = 1 AND payloadbinary = '\x0a0a'::bytea) FROM sr3),
    'NULL and non-NULL key extensions never match each other');

-- grain C: string key (kept in GrainIdExtensionString, N0 = N1 = 0)
EXECUTE st_write(55, 0, 0, 77, 'Saiki.Grains.SourceGrain', 'orders-source', :'svc', NULL, '\x0c') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '1', 'string-keyed grain first write returns version 1');

-- clear keeps the row and bumps the version
EXECUTE st_clear(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 1);
SELECT pg_temp.ok(:ROW_COUNT = 0, 'ClearStorageKey with stale ETag 1 conflicts: no row returned');
EXECUTE st_clear(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 2) \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '3', 'ClearStorageKey with ETag 2 returns version 3');
CREATE TEMP TABLE sr4 AS EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc');
SELECT pg_temp.ok((SELECT count(*) = 1 AND bool_and(payloadbinary IS NULL AND version = 3) FROM sr4),
    'a cleared state reads back as NULL payload that keeps version 3');
EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 3, '\x0404') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '4', 'writing after a clear continues with version 4');

-- delete removes the row (DeleteStateOnClear = true)
EXECUTE st_delete(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 3);
SELECT pg_temp.ok(:ROW_COUNT = 0, 'DeleteStorageKey with stale ETag 3 conflicts: no row returned');
EXECUTE st_delete(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', 4) \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' IS DISTINCT FROM '4' AND :'r_newgrainstateversion' <> '',
    'DeleteStorageKey with ETag 4 returns a value different from the ETag');
EXECUTE st_read(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'after DeleteStorageKey the grain has no row');
EXECUTE st_write(-123456789, 0, 42, 987654321, 'Saiki.Grains.CounterGrain', NULL, :'svc', NULL, '\x0505') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '1', 'a deleted grain starts again at version 1');

-- version wrap-around
UPDATE OrleansStorage SET Version = 2147483647
WHERE ServiceId = :'svc' AND GrainTypeString = 'Saiki.Grains.SourceGrain';
EXECUTE st_write(55, 0, 0, 77, 'Saiki.Grains.SourceGrain', 'orders-source', :'svc', 2147483647, '\x0d') \gset r_
SELECT pg_temp.ok(:'r_newgrainstateversion' = '1', 'the version wraps from 2147483647 to 1 instead of overflowing');

SELECT pg_temp.ok((SELECT count(*) FROM OrleansStorage WHERE ServiceId = :'svc') = 3,
    'exactly three grain rows exist (A, B, C)');
DELETE FROM OrleansStorage WHERE ServiceId = :'svc';

-- ===========================================================================
\echo
\echo '=== reminders ==='
-- ===========================================================================
DELETE FROM OrleansRemindersTable WHERE ServiceId IN (:'svc', 'saiki-sqlcheck-other');

SELECT pg_temp.prepare_sql('rm_upsert', 'UpsertReminderRowKey',
    ARRAY['ServiceId', 'GrainHash', 'GrainId', 'ReminderName', 'StartTime', 'Period'],
    ARRAY['text', 'integer', 'text', 'text', 'timestamptz', 'integer']) \gexec
-- periods above int32 milliseconds are bound as bigint by the provider
SELECT pg_temp.prepare_sql('rm_upsert_long', 'UpsertReminderRowKey',
    ARRAY['ServiceId', 'GrainHash', 'GrainId', 'ReminderName', 'StartTime', 'Period'],
    ARRAY['text', 'integer', 'text', 'text', 'timestamptz', 'bigint']) \gexec
SELECT pg_temp.prepare_sql('rm_rows', 'ReadReminderRowsKey',
    ARRAY['ServiceId', 'GrainId'], ARRAY['text', 'text']) \gexec
SELECT pg_temp.prepare_sql('rm_row', 'ReadReminderRowKey',
    ARRAY['ServiceId', 'GrainId', 'ReminderName'], ARRAY['text', 'text', 'text']) \gexec
SELECT pg_temp.prepare_sql('rm_range1', 'ReadRangeRows1Key',
    ARRAY['ServiceId', 'BeginHash', 'EndHash'], ARRAY['text', 'integer', 'integer']) \gexec
SELECT pg_temp.prepare_sql('rm_range2', 'ReadRangeRows2Key',
    ARRAY['ServiceId', 'BeginHash', 'EndHash'], ARRAY['text', 'integer', 'integer']) \gexec
SELECT pg_temp.prepare_sql('rm_delete', 'DeleteReminderRowKey',
    ARRAY['ServiceId', 'GrainId', 'ReminderName', 'Version'], ARRAY['text', 'text', 'text', 'integer']) \gexec
SELECT pg_temp.prepare_sql('rm_delete_all', 'DeleteReminderRowsKey',
    ARRAY['ServiceId'], ARRAY['text']) \gexec

-- grain hashes (signed int32): gA -2000000000, gD 0, gB 100, gC 2147483640
EXECUTE rm_upsert(:'svc', -2000000000, 'counter/a', 'tick', '2026-03-01 10:00:00.5+00', 60000) \gset r_
SELECT pg_temp.ok(:'r_version' = '0', 'UpsertReminderRowKey creates a reminder with version 0');
EXECUTE rm_upsert(:'svc', -2000000000, 'counter/a', 'tick', '2026-03-01 11:00:00+00', 120000) \gset r_
SELECT pg_temp.ok(:'r_version' = '1', 'UpsertReminderRowKey on the same reminder returns version 1');
EXECUTE rm_upsert(:'svc', -2000000000, 'counter/a', 'tock', '2026-03-01 10:00:00+00', 1000) \gset r_
EXECUTE rm_upsert(:'svc', 0, 'counter/d', 'tick', '2026-03-01 10:00:00+00', 1000) \gset r_
EXECUTE rm_upsert(:'svc', 100, 'counter/b', 'tick', '2026-03-01 10:00:00+00', 1000) \gset r_
EXECUTE rm_upsert_long(:'svc', 2147483640, 'counter/c', 'monthly', '2026-03-01 10:00:00+00', 5000000000) \gset r_
SELECT pg_temp.ok(:'r_version' = '0', 'UpsertReminderRowKey with a bigint period succeeds');
EXECUTE rm_upsert('saiki-sqlcheck-other', 100, 'counter/b', 'tick', '2026-03-01 10:00:00+00', 1000) \gset r_

CREATE TEMP TABLE rr_a AS EXECUTE rm_rows(:'svc', 'counter/a');
SELECT * FROM rr_a ORDER BY remindername;
SELECT pg_temp.ok((SELECT count(*) FROM rr_a) = 2, 'ReadReminderRowsKey returns both reminders of counter/a');

CREATE TEMP TABLE rr_tick AS EXECUTE rm_row(:'svc', 'counter/a', 'tick');
SELECT pg_temp.ok((SELECT count(*) = 1
                          AND bool_and(grainid = 'counter/a' AND remindername = 'tick' AND version = 1
                                       AND period = 120000 AND starttime = '2026-03-01 11:00:00+00')
                   FROM rr_tick),
    'ReadReminderRowKey returns the updated reminder (version 1, new start and period)');
EXECUTE rm_row(:'svc', 'counter/a', 'nope');
SELECT pg_temp.ok(:ROW_COUNT = 0, 'ReadReminderRowKey of an unknown reminder returns no row');
CREATE TEMP TABLE rr_long AS EXECUTE rm_row(:'svc', 'counter/c', 'monthly');
SELECT pg_temp.ok((SELECT period FROM rr_long) = 5000000000, 'a period above int32 is kept as bigint');

-- non-wrapping range (BeginHash < EndHash as signed): (-2000000000, 100]
CREATE TEMP TABLE rg1 AS EXECUTE rm_range1(:'svc', -2000000000, 100);
SELECT * FROM rg1 ORDER BY grainid;
SELECT pg_temp.ok((SELECT array_agg(grainid ORDER BY grainid) FROM rg1) = ARRAY['counter/b', 'counter/d']::varchar[],
    'ReadRangeRows1Key returns hashes in (begin, end] only');
-- wrapping range: (100, -2000000000] = above 100 or at most -2000000000
CREATE TEMP TABLE rg2 AS EXECUTE rm_range2(:'svc', 100, -2000000000);
SELECT * FROM rg2 ORDER BY grainid, remindername;
SELECT pg_temp.ok((SELECT array_agg(grainid || '/' || remindername ORDER BY grainid, remindername) FROM rg2)
                  = ARRAY['counter/a/tick', 'counter/a/tock', 'counter/c/monthly'],
    'ReadRangeRows2Key returns the wrapped range (begin, end]');
-- unsigned range (0x7FFFFFF0, 0x80000010] crosses the signed boundary: begin 2147483632 > end -2147483632
CREATE TEMP TABLE rg3 AS EXECUTE rm_range2(:'svc', 2147483632, -2147483632);
SELECT pg_temp.ok((SELECT array_agg(grainid) FROM rg3) = ARRAY['counter/c']::varchar[],
    'ReadRangeRows2Key handles a range that crosses the signed int32 boundary');
-- begin = end: the whole ring
CREATE TEMP TABLE rg4 AS EXECUTE rm_range2(:'svc', 5, 5);
SELECT pg_temp.ok((SELECT count(*) FROM rg4) = 5, 'ReadRangeRows2Key with begin = end returns the whole ring (5 reminders)');

EXECUTE rm_delete(:'svc', 'counter/a', 'tick', 0) \gset r_
SELECT pg_temp.ok(:'r_deleted' = 'f', 'DeleteReminderRowKey with a stale version returns false');
EXECUTE rm_delete(:'svc', 'counter/a', 'tick', 1) \gset r_
SELECT pg_temp.ok(:'r_deleted' = 't', 'DeleteReminderRowKey with the current version returns true');
EXECUTE rm_delete(:'svc', 'counter/a', 'tick', 1) \gset r_
SELECT pg_temp.ok(:'r_deleted' = 'f', 'DeleteReminderRowKey of a deleted reminder returns false');

EXECUTE rm_delete_all(:'svc');
SELECT pg_temp.ok(:ROW_COUNT = 4, 'DeleteReminderRowsKey deletes the 4 remaining reminders of the service');
SELECT pg_temp.ok((SELECT count(*) FROM OrleansRemindersTable WHERE ServiceId = 'saiki-sqlcheck-other') = 1,
    'DeleteReminderRowsKey leaves other services alone');
DELETE FROM OrleansRemindersTable WHERE ServiceId = 'saiki-sqlcheck-other';

\echo
\echo 'ALL CHECKS PASSED'
