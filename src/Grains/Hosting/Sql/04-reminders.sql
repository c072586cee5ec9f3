-- =============================================================================
-- 04-reminders.sql  -  Orleans reminder table for PostgreSQL
--
-- Serves: Microsoft.Orleans.Reminders.AdoNet 10.4.x (written against 10.4.2),
--         ADO.NET invariant "Npgsql", AdoNetReminderTable. Requires 01-main.sql.
--
-- Parameter types as bound by the provider through Npgsql:
--     ServiceId, GrainId, ReminderName       text (GrainId is GrainId.ToString())
--     GrainHash, BeginHash, EndHash          integer (uint ring hashes bound as
--                                            signed int32 by unchecked cast)
--     StartTime                              timestamptz
--     Period                                 integer, or bigint when the period
--                                            exceeds int32 milliseconds
--     Version                                integer (the ETag)
-- ServiceId is ClusterOptions.ServiceId.
--
-- Result contract:
--   * Read queries return GrainId, ReminderName, StartTime, Period (ms) and
--     Version for every matching reminder.
--   * The provider picks ReadRangeRows1Key when BeginHash < EndHash as signed
--     integers (the range does not wrap) and ReadRangeRows2Key otherwise (the
--     range wraps, or covers the whole ring when BeginHash = EndHash). Both
--     select hashes in the half-open range (BeginHash, EndHash].
--   * UpsertReminderRowKey returns one row with the new Version (0 when the
--     reminder is created, incremented on every update).
--   * DeleteReminderRowKey returns one row with one boolean column: true only
--     if the reminder existed with the given Version and was deleted.
--
-- Each query is a single statement and therefore atomic on its own.
--
-- Idempotent: safe to apply repeatedly.
-- =============================================================================

SELECT pg_advisory_xact_lock(1330794574, 0);

CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    varchar(150)  NOT NULL,
    GrainId      varchar(1024) NOT NULL,
    ReminderName varchar(512)  NOT NULL,
    StartTime    timestamptz   NOT NULL,
    Period       bigint        NOT NULL,
    GrainHash    integer       NOT NULL,
    Version      integer       NOT NULL,

    CONSTRAINT PK_OrleansRemindersTable PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

CREATE INDEX IF NOT EXISTS IX_OrleansRemindersTable_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
(
    'ReadReminderRowsKey',
    'SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainId = @GrainId'
),
(
    'ReadReminderRowKey',
    'SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainId = @GrainId
  AND ReminderName = @ReminderName'
),
(
    'ReadRangeRows1Key',
    'SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainHash > @BeginHash
  AND GrainHash <= @EndHash'
),
(
    'ReadRangeRows2Key',
    'SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND (GrainHash > @BeginHash OR GrainHash <= @EndHash)'
),
(
    'UpsertReminderRowKey',
    'INSERT INTO OrleansRemindersTable AS r
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
    SET StartTime = EXCLUDED.StartTime,
        Period = EXCLUDED.Period,
        GrainHash = EXCLUDED.GrainHash,
        Version = CASE WHEN r.Version >= 2147483647 THEN 0 ELSE r.Version + 1 END
RETURNING r.Version'
),
(
    'DeleteReminderRowKey',
    'WITH removed AS (
    DELETE FROM OrleansRemindersTable
    WHERE ServiceId = @ServiceId
      AND GrainId = @GrainId
      AND ReminderName = @ReminderName
      AND Version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM removed) AS Deleted'
),
(
    'DeleteReminderRowsKey',
    'DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId'
)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
