-- =============================================================================
-- 03-persistence.sql  -  Orleans grain state storage for PostgreSQL
--
-- Serves: Microsoft.Orleans.Persistence.AdoNet 10.4.x (written against 10.4.2),
--         ADO.NET invariant "Npgsql", AdoNetGrainStorage. Requires 01-main.sql.
--
-- At start-up the grain storage reads WriteToStorageKey, ReadFromStorageKey and
-- ClearStorageKey (mandatory) and DeleteStorageKey (optional, only needed with
-- AdoNetGrainStorageOptions.DeleteStateOnClear = true).
--
-- Parameter types as bound by the provider through Npgsql:
--     GrainIdHash, GrainTypeHash             integer (hashes chosen by HashPicker)
--     GrainIdN0, GrainIdN1                   bigint  (numeric or Guid key halves)
--     GrainTypeString, ServiceId             text
--     GrainIdExtensionString                 text, NULL when the key has no
--                                            extension (string keys live here)
--     GrainStateVersion                      integer, NULL before the first write
--     PayloadBinary                          bytea   (serialised grain state)
-- ServiceId is ClusterOptions.ServiceId.
--
-- Result contract (the provider compares the returned version with the ETag):
--   * ReadFromStorageKey returns at most one row with PayloadBinary and Version.
--     A row whose PayloadBinary is NULL is a cleared state that keeps its version.
--   * WriteToStorageKey returns one row with NewGrainStateVersion on success.
--     With GrainStateVersion NULL it only inserts a new row (version 1),
--     otherwise it only updates the row that still has that version.
--     Any conflict returns no row, which the provider turns into an
--     InconsistentStateException.
--   * ClearStorageKey keeps the row, nulls the payload and returns the new
--     version. DeleteStorageKey removes the row and returns a value different
--     from the old version. Both return no row on a version conflict.
--
-- Each query is a single statement and therefore atomic on its own. A grain key
-- is unique: one index covers keys with an extension (and serves the lookups),
-- a partial one covers keys without an extension, because NULLs never collide
-- in an ordinary unique index. Versions wrap from 2147483647 to 1.
--
-- Idempotent: safe to apply repeatedly.
-- =============================================================================

SELECT pg_advisory_xact_lock(1330794574, 0);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_GrainKey
    ON OrleansStorage (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1,
                       GrainTypeString, GrainIdExtensionString);

CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_GrainKeyWithoutExtension
    ON OrleansStorage (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1,
                       GrainTypeString)
    WHERE GrainIdExtensionString IS NULL;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
(
    'ReadFromStorageKey',
    'SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash
  AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND (GrainIdExtensionString = @GrainIdExtensionString
       OR (GrainIdExtensionString IS NULL AND @GrainIdExtensionString IS NULL))'
),
(
    'WriteToStorageKey',
    'WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = @PayloadBinary,
        ModifiedOn = now(),
        Version = CASE WHEN Version >= 2147483647 THEN 1 ELSE Version + 1 END
    WHERE @GrainStateVersion IS NOT NULL
      AND Version = @GrainStateVersion
      AND GrainIdHash = @GrainIdHash
      AND GrainTypeHash = @GrainTypeHash
      AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0
      AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND (GrainIdExtensionString = @GrainIdExtensionString
           OR (GrainIdExtensionString IS NULL AND @GrainIdExtensionString IS NULL))
    RETURNING Version
),
inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
         GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
           @GrainIdExtensionString, @ServiceId, @PayloadBinary, now(), 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version
)
SELECT Version AS NewGrainStateVersion FROM updated
UNION ALL
SELECT Version AS NewGrainStateVersion FROM inserted'
),
(
    'ClearStorageKey',
    'UPDATE OrleansStorage
SET PayloadBinary = NULL,
    ModifiedOn = now(),
    Version = CASE WHEN Version >= 2147483647 THEN 1 ELSE Version + 1 END
WHERE Version = @GrainStateVersion
  AND GrainIdHash = @GrainIdHash
  AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND (GrainIdExtensionString = @GrainIdExtensionString
       OR (GrainIdExtensionString IS NULL AND @GrainIdExtensionString IS NULL))
RETURNING Version AS NewGrainStateVersion'
),
(
    'DeleteStorageKey',
    'DELETE FROM OrleansStorage
WHERE Version = @GrainStateVersion
  AND GrainIdHash = @GrainIdHash
  AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND (GrainIdExtensionString = @GrainIdExtensionString
       OR (GrainIdExtensionString IS NULL AND @GrainIdExtensionString IS NULL))
RETURNING CASE WHEN Version >= 2147483647 THEN 1 ELSE Version + 1 END AS NewGrainStateVersion'
)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
