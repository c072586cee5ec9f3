-- =============================================================================
-- 01-main.sql  -  Orleans ADO.NET query registry (PostgreSQL)
--
-- Serves: Microsoft.Orleans.Clustering.AdoNet, Microsoft.Orleans.Persistence.AdoNet
--         and Microsoft.Orleans.Reminders.AdoNet 10.4.x (written against 10.4.2),
--         ADO.NET invariant "Npgsql".
--
-- The Orleans ADO.NET providers ship no SQL. At start-up each provider reads its
-- query texts from the table created here, using the fixed, unquoted statement
--     SELECT QueryKey, QueryText FROM OrleansQuery [WHERE QueryKey = ...]
-- PostgreSQL folds those unquoted names to lower case, so this table and its
-- columns are deliberately created unquoted as well. The provider matches the
-- result columns by name, case-insensitively.
--
-- Apply this file first, then 02-clustering.sql, 03-persistence.sql and
-- 04-reminders.sql. Every file is idempotent: it can be applied any number of
-- times, also over an earlier version of itself. Each file is one command text
-- without parameters and without psql meta-commands. When a file is sent as one
-- command it runs as one implicit transaction, and the advisory lock below then
-- serialises silos that apply the scripts concurrently at start-up.
-- =============================================================================

-- Serialise concurrent schema application (key 1330794574 is ORLN in ASCII).
SELECT pg_advisory_xact_lock(1330794574, 0);

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);
